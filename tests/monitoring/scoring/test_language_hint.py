"""A platform's language tag is a hint checked against the text; languages we don't name are "other"."""

from __future__ import annotations

import pytest

from monitoring.scoring import OTHER, detect_language, score_many, score_text, text_language
from monitoring.scoring.english import vader
from monitoring.scoring.language import check_tag, raw_tokens

ANGRY_ENGLISH = "This is the worst airline ever, they lost my bag and nobody answers. Disgusting!"


def tokens_of(text: str) -> list[str]:
    return raw_tokens(text.lower())


def test_an_english_post_tagged_turkish_is_scored_as_english():
    score = score_text(ANGRY_ENGLISH, "tr")
    assert score.language == "en"
    # Exactly VADER's score, not the Turkish lexicon's 0.0 "neutral".
    assert score.sentiment == vader().polarity_scores(ANGRY_ENGLISH)["compound"]
    assert score.label == "negative"


def test_the_batch_path_checks_tags_as_one_text_does():
    texts = [ANGRY_ENGLISH, "Uçuşum iptal edildi ve kimse bize bilgi vermiyor, çok kötü.", "super"]
    tags = ["tr", "en", "pl"]
    scores = score_many(texts, tags)
    assert [s.language for s in scores] == ["en", "tr", "pl"]
    assert scores == [score_text(t, tag) for t, tag in zip(texts, tags, strict=True)]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("pl", "super"),  # too short to overrule the platform
        ("tr", "Great service"),
        ("ms", "Penerbangan saya dibatalkan dan tidak ada yang memberi informasi kepada kami."),  # one group
        ("de", "Mein Flug wurde gestrichen und niemand sagt uns etwas, eine Frechheit."),  # vote undecided
        ("", ANGRY_ENGLISH),  # no tag: nothing to check
    ],
)
def test_a_tag_stands_when_the_text_cannot_overrule_it(code, text):
    assert check_tag(code, text, tokens_of(text)) == code


def test_handles_and_links_do_not_count_towards_overruling_a_tag():
    text = "@the_worst_airline_ever https://example.com/this-is-the-worst-and-you-know-it bok"
    assert check_tag("pl", text, tokens_of(text)) == "pl"


@pytest.mark.parametrize(
    "text",
    [
        "Dobrý den, objednávka pořád nedorazila a nikdo mi neodpovídá na e-maily.",  # Czech
        "注文した商品が届きません。サポートに連絡しても返事がありません。",  # Japanese
        "Η παραγγελία δεν ήρθε ποτέ και κανείς δεν απαντά στα μηνύματα.",  # Greek
    ],
)
def test_a_language_we_do_not_name_is_other_not_the_nearest_one_we_do(text):
    assert detect_language(text) == OTHER
    assert score_text(text).language == OTHER


def test_our_languages_and_neighbours_are_still_named():
    assert detect_language("Mein Flug wurde gestrichen und niemand sagt uns etwas.") == "de"
    assert detect_language("Lot został odwołany i nikt nie udziela nam żadnych informacji.") == "pl"


def test_text_language_says_nothing_about_short_or_empty_text():
    assert text_language("Acme Air flight 12") == ""
    assert text_language("🔥🔥🔥 !!!") == ""
    assert text_language(ANGRY_ENGLISH) == "en"


@pytest.mark.parametrize(
    ("text", "tag", "expected"),
    [
        # Mastodon tags every post of an account set to English "en".
        ("parcel saya dah dua minggu tak sampai", "en", "id"),
        ("Lot opóźniony o pięć godzin, żenada", "en", "pl"),
        # The vote can't settle these, the model is sure.
        ("Worst airline ever, lost luggage again, nobody cares", "tr", "en"),
    ],
)
def test_the_model_overrules_a_tag_the_vote_cannot_settle(text, tag, expected):
    assert check_tag(tag, text, tokens_of(text)) == expected


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("Terrible experience, lost luggage, zero support", "en"),
        ("parcel saya dah dua minggu tak sampai", "ms"),
        ("Lot opóźniony o pięć godzin, żenada", "pl"),
    ],
)
def test_a_right_tag_stands(text, tag):
    assert check_tag(tag, text, tokens_of(text)) == tag
