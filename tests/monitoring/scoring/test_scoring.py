"""Behaviour of monitoring.scoring per language: routing, sentiment, crisis terms, risk, hints."""

from __future__ import annotations

import pickle

import pytest

from monitoring.scoring import (
    Score,
    builtin_scenario_terms,
    detect_language,
    label_for,
    language_group,
    normalize_language,
    score_many,
    score_mention,
    score_text,
)
from playbooks.models import ScenarioType


def sentiment(text: str, language: str | None = None) -> float:
    return score_text(text, language).sentiment


# --- language routing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Uçuşum iptal edildi ve kimse bize bilgi vermiyor, çok kötü bir deneyim.", "tr"),
        ("Lot został odwołany i nikt nie udziela nam żadnych informacji.", "pl"),
        ("Penerbangan saya dibatalkan dan tidak ada yang memberi informasi.", "id"),
        ("Penerbangan saya dibatalkan dan tiada siapa yang memberi maklumat kepada kami.", "id"),
        ("My flight was cancelled and nobody tells us anything.", "en"),
        ("Mein Flug wurde gestrichen und niemand sagt uns etwas.", "de"),
    ],
)
def test_it_detects_the_languages_we_meet(text, expected):
    assert detect_language(text) == expected


def test_it_trusts_the_platform_tag():
    # English words, but the platform says Polish: the tag wins.
    assert score_text("super", "pl-PL").language == "pl"
    assert score_text("Great service", "tr").language == "tr"


def test_it_keeps_a_malay_tag_but_routes_malay_and_indonesian_together():
    tagged = score_text("Makanan ini sedap dan murah", "ms")
    assert tagged.language == "ms"
    assert tagged.label == "positive"
    assert language_group("ms") == language_group("id") == "id"
    assert score_text("Makanan ini sedap dan murah").language == "id"


@pytest.mark.parametrize(
    ("tag", "code"), [("en-US", "en"), ("pt_BR", "pt"), ("IND", "id"), ("in", "id"), ("", ""), (None, "")]
)
def test_it_normalizes_platform_tags(tag, code):
    assert normalize_language(tag) == code


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "12345 !!!", "👍"])
def test_text_without_words_is_undetermined(text):
    assert score_text(text).language == "und"


def test_very_short_text_is_routed_by_the_lexicon_that_knows_it():
    assert score_text("rezalet").language == "tr"
    assert score_text("rezalet").label == "negative"


# --- sentiment: English -------------------------------------------------------------------------


def test_english_uses_vader():
    assert score_text("The support team was great, thank you!").label == "positive"
    assert score_text("Worst airline ever, absolutely terrible service.").label == "negative"
    assert score_text("The flight leaves at 9 from gate 12.").label == "neutral"


def test_english_negation_flips():
    assert sentiment("the food was good", "en") > 0 > sentiment("the food was not good", "en")


# --- sentiment: Turkish -------------------------------------------------------------------------


def test_turkish_positive_and_negative_words():
    assert score_text("Harika bir hizmet, teşekkürler").label == "positive"
    assert score_text("Berbat bir hizmet, rezalet").label == "negative"


def test_turkish_negative_verb_suffix_flips():
    assert sentiment("Bu ürünü beğendim", "tr") > 0
    assert sentiment("Bu ürünü beğenmedim", "tr") < 0
    assert sentiment("Bu ürünü hiç beğenmiyorum", "tr") < 0


def test_turkish_degil_and_yok_negate_the_word_before():
    assert sentiment("iyi", "tr") > 0 > sentiment("iyi değil", "tr")
    assert sentiment("sorun var", "tr") < 0 < sentiment("sorun yok", "tr")


def test_turkish_privative_suffix_flips_the_stem():
    assert sentiment("teslimat sorunsuz", "tr") > 0
    assert sentiment("başarısız bir proje", "tr") < 0


def test_turkish_matches_text_written_without_diacritics():
    assert sentiment("cok kotu bir deneyim", "tr") < 0
    assert sentiment("çok kötü bir deneyim", "tr") == sentiment("cok kotu bir deneyim", "tr")


def test_turkish_intensifier_strengthens():
    assert sentiment("çok kötü", "tr") < sentiment("kötü", "tr") < 0


# --- sentiment: Polish ---------------------------------------------------------------------------


def test_polish_inflected_forms_match_their_stem():
    for text in ("świetny", "świetna obsługa", "świetnie"):
        assert sentiment(text, "pl") > 0
    assert sentiment("Obsługa była beznadziejna", "pl") < 0


def test_polish_nie_negates():
    assert sentiment("polecam", "pl") > 0 > sentiment("nie polecam", "pl")
    assert sentiment("jest dobrze", "pl") > 0 > sentiment("nie jest dobrze", "pl")


def test_polish_nie_prefix_flips_an_adjective():
    assert sentiment("miły personel", "pl") > 0 > sentiment("niemiły personel", "pl")


def test_polish_negation_stops_at_a_comma():
    # "nie polecam, obsługa beznadziejna": both clauses are negative.
    assert score_text("Nie polecam, obsługa beznadziejna").label == "negative"


def test_polish_intensifier_strengthens():
    assert sentiment("bardzo dobry", "pl") > sentiment("dobry", "pl") > 0


# --- sentiment: Malay / Indonesian ---------------------------------------------------------------


@pytest.mark.parametrize("negator", ["tidak", "tak", "bukan", "gak", "nggak"])
def test_indonesian_negators_flip(negator):
    assert sentiment("makanannya enak", "id") > 0 > sentiment(f"makanannya {negator} enak", "id")


def test_indonesian_suffixes_and_superlatives():
    assert sentiment("enaknya", "id") > 0
    assert sentiment("pelayanan terbaik", "id") > 0
    assert sentiment("kemahalan", "id") < 0


def test_indonesian_intensifier_after_the_word():
    assert sentiment("enak banget", "id") > sentiment("enak", "id") > 0


def test_indonesian_contrast_weighs_what_follows():
    assert score_text("Tempatnya bagus tapi pelayanannya lambat dan kasar", "id").label == "negative"


def test_malay_slang_words():
    assert score_text("Servis teruk, sangat kecewa", "ms").label == "negative"


# --- emoji ---------------------------------------------------------------------------------------


def test_emoji_only_text_has_sentiment():
    assert score_text("😡😡").label == "negative"
    assert score_text("😍👍").label == "positive"


@pytest.mark.parametrize("language", ["tr", "pl", "id", "en"])
def test_emoji_count_in_every_language(language):
    assert score_text("😡", language).label == "negative"


def test_emoticons_count_but_not_inside_links():
    assert score_text("bagus :)", "id").sentiment > score_text("bagus", "id").sentiment
    assert score_text("https://example.com/a", "id").sentiment == 0.0


# --- crisis terms, scenario hints, risk ----------------------------------------------------------


def test_crisis_terms_per_language():
    assert "boykot" in score_text("Bu markayı boykot ediyoruz!").crisis_terms
    assert "bojkot" in score_text("Ogłaszamy bojkot tej firmy, to skandal.").crisis_terms
    assert "boikot" in score_text("Ayo boikot produk ini, penipuan!").crisis_terms
    assert "boycott" in score_text("We will boycott this brand").crisis_terms


def test_english_loanwords_count_in_other_languages():
    score = score_text("Sudah dua minggu refund belum masuk, kecewa banget", "id")
    assert "refund" in score.crisis_terms


def test_inflected_crisis_terms_match():
    score = score_text("Restoranınızda yemek yedikten sonra zehirlendik", "tr")
    assert score.crisis_terms and score.scenario_hint == ScenarioType.PRODUCT_DEFECT


@pytest.mark.parametrize(
    ("text", "language", "scenario"),
    [
        ("Your app leaked my personal data, my account was hacked", "en", ScenarioType.DATA_BREACH),
        ("Data pribadi saya bocor, akun saya diretas", "id", ScenarioType.DATA_BREACH),
        ("Uçuşumuz iptal edildi, havalimanında mahsur kaldık", "tr", ScenarioType.SERVICE_FAILURE),
        ("Aplikacja nie działa od rana, awaria systemu", "pl", ScenarioType.SERVICE_FAILURE),
        ("Your staff member was racist to my family", "en", ScenarioType.EMPLOYEE_MISCONDUCT),
    ],
)
def test_scenario_hint_from_built_in_triggers(text, language, scenario):
    assert score_text(text, language).scenario_hint == scenario


def test_built_in_triggers_cover_every_scenario_type():
    builtin = builtin_scenario_terms()
    for scenario in ScenarioType.values:
        assert set(builtin[scenario]) >= {"en", "tr", "pl", "id"}


def test_given_scenario_terms_replace_the_built_in_hints():
    terms = {
        ScenarioType.MISINFORMATION: {"en": ["flat earth*"]},
        ScenarioType.PRODUCT_DEFECT: {"pl": ["pęknięt*"]},
    }
    assert score_mention(
        "They spread flat earth nonsense, awful", "en", scenario_terms=terms
    ).scenario_hint == (ScenarioType.MISINFORMATION)
    polish = score_mention("Obudowa pęknięta po tygodniu, porażka", "pl", scenario_terms=terms)
    assert polish.scenario_hint == ScenarioType.PRODUCT_DEFECT
    assert "pęknięt" in polish.crisis_terms
    # Built-in scenario triggers are not used when the caller passes its own...
    assert score_mention("my account was hacked, awful", "en", scenario_terms=terms).scenario_hint == ""
    # ...but the general crisis terms still raise risk.
    assert "boycott" in score_mention("boycott them, awful", "en", scenario_terms=terms).crisis_terms


def test_a_positive_mention_gets_no_scenario_hint():
    score = score_text("Great job restoring service after the outage, thank you!", "en")
    assert score.label == "positive"
    assert score.scenario_hint == ""


def test_risk_grows_with_negativity_crisis_terms_and_audience():
    calm = score_text("The new menu is lovely", "en")
    angry = score_text("This is awful and disgusting", "en")
    crisis = score_text("This is awful, food poisoning, we will sue you", "en")
    assert calm.risk == 0.0
    assert 0 < angry.risk < crisis.risk <= 1
    small = score_mention("This is awful, food poisoning, we will sue you", "en", reach=10)
    large = score_mention(
        "This is awful, food poisoning, we will sue you", "en", reach=2_000_000, engagement=50_000
    )
    assert small.risk < large.risk <= 1


def test_reach_never_changes_sentiment():
    a = score_mention("kötü hizmet", "tr", reach=0)
    b = score_mention("kötü hizmet", "tr", reach=10_000_000)
    assert a.sentiment == b.sentiment and a.label == b.label


# --- robustness ----------------------------------------------------------------------------------


def test_markup_is_just_text():
    score = score_text("<script>alert(1)</script>")
    assert isinstance(score, Score)
    assert score.label == "neutral"
    assert score.as_dict()["crisis_terms"] == []


def test_very_long_text_is_scored_quickly_and_bounded():
    text = "Çok kötü bir hizmet, rezalet! " * 2000
    score = score_text(text)
    assert score.language == "tr"
    assert -1.0 <= score.sentiment <= 1.0 and 0.0 <= score.risk <= 1.0
    assert score.label == "negative"


def test_mixed_script_text_scores_without_error():
    score = score_text("服务太差了 😡 very bad service مرحبا Привет")
    assert -1.0 <= score.sentiment <= 1.0
    assert score.label == "negative"


def test_mixed_language_text_uses_the_dominant_language():
    score = score_text("Pelayanan sangat buruk dan lambat sekali, customer service tidak membantu")
    assert score.language == "id"
    assert score.label == "negative"


def test_label_for_thresholds():
    assert label_for(-0.5) == "negative"
    assert label_for(0.0) == "neutral"
    assert label_for(0.5) == "positive"


def test_score_many_matches_score_mention_and_checks_lengths():
    texts = ["super obsługa", "kötü hizmet", "great"]
    batch = score_many(texts, ["pl", None, "en"], reaches=[0, 100, 0], engagements=[0, 0, 5])
    assert batch == [
        score_mention("super obsługa", "pl"),
        score_mention("kötü hizmet", None, reach=100),
        score_mention("great", "en", engagement=5),
    ]
    with pytest.raises(ValueError, match="languages"):
        score_many(texts, ["pl"])


# --- fast paths keep the results (see docs/scoring.md, "Speed") ----------------------------------


def test_score_is_an_immutable_value_with_field_equality():
    score = Score("en", -0.5, "negative", 0.3, ["refund"], "viral_complaint")
    assert score == Score("en", -0.5, "negative", 0.3, ["refund"], "viral_complaint")
    assert score != Score("en", -0.5, "negative", 0.3, [], "viral_complaint")
    plain = ("en", -0.5, "negative", 0.3, ["refund"], "viral_complaint")
    assert score != plain and plain != score and not score == plain  # noqa: SIM201
    with pytest.raises(TypeError):
        assert score < score
    assert Score("en", 0.0, "neutral", 0.0).crisis_terms == []
    assert Score("en", 0.0, "neutral", 0.0).crisis_terms is not Score("en", 0.0, "neutral", 0.0).crisis_terms
    with pytest.raises(AttributeError):
        score.label = "positive"  # type: ignore[misc]
    as_dict = score.as_dict()
    assert as_dict == {
        "language": "en",
        "sentiment": -0.5,
        "label": "negative",
        "risk": 0.3,
        "crisis_terms": ["refund"],
        "scenario_hint": "viral_complaint",
    }
    as_dict["crisis_terms"].append("scam")
    assert score.crisis_terms == ["refund"]
    assert pickle.loads(pickle.dumps(score)) == score
    assert repr(score).startswith("Score(language='en', sentiment=-0.5, label='negative'")


def test_score_many_in_chunks_matches_scoring_one_by_one():
    from monitoring.scoring import CHUNK, ONE_BATCH_MAX

    base = [
        "Great flight, thank you",
        "Uçuşum iptal edildi, rezalet, paramı iade edin",
        "Aplikacja nie działa, awaria od rana",
        "Aplikasi error terus, tidak bisa login",
        "data bocor, akun saya diretas",
        "😡😡",
        "",
        "Mein Flug wurde gestrichen und niemand sagt uns etwas.",
        "@acme http://x.y lost my luggage again",
    ]
    texts = [f"{base[i % len(base)]} {i}" for i in range(ONE_BATCH_MAX + CHUNK + 7)]
    languages = [(None, "en", "tr-TR", "", "ms")[i % 5] for i in range(len(texts))]
    reaches = [i * 37 for i in range(len(texts))]
    terms = builtin_scenario_terms()
    batch = score_many(texts, languages, reaches=reaches, scenario_terms=terms)
    assert batch == [
        score_mention(text, language, reach=reach, scenario_terms=terms)
        for text, language, reach in zip(texts, languages, reaches, strict=True)
    ]


def test_results_do_not_depend_on_the_per_token_memos(monkeypatch):
    import monitoring.scoring.language as language_module
    import monitoring.scoring.lexicon as lexicon_module
    import monitoring.scoring.matcher as matcher_module
    import monitoring.scoring.text as text_module

    texts = [
        "Harika bir hizmet, teşekkürler",
        "Nie polecam, obsługa beznadziejna, nie działa",
        "Tempatnya bagus tapi pelayanannya lambat, tidak ramah",
        "The support team was great, but my data was exposed",
        "İYİ DEĞİL, çoooook kötü",
    ] * 3
    expected = score_many(texts)
    # Memos of one entry: every text replaces them, mid-batch.
    monkeypatch.setattr(lexicon_module, "WORD_CACHE_SIZE", 1)
    monkeypatch.setattr(matcher_module, "WORD_CACHE_SIZE", 1)
    monkeypatch.setattr(text_module, "FOLD_CACHE_SIZE", 1)
    monkeypatch.setattr(language_module, "VOTE_CACHE_SIZE", 1)
    assert score_many(texts) == expected


def test_long_text_language_vote_counts_every_word():
    # Past 8190 characters the vote counts word by word instead of in packed per-token fields.
    assert detect_language("the and is are " * 700) == "en"
    assert detect_language("nie jest dobrze, ale " * 600) == "pl"
