"""Everyday complaint language in Turkish, Polish and Malay: irony, negated verbs, waiting, silence."""

from __future__ import annotations

import pytest

from monitoring.scoring import score_many, score_text
from monitoring.scoring.english import vader
from monitoring.scoring.lexicon import TR_CANNOT_VALENCE, TR_DOES_NOT_VALENCE, lexicon


def label(text: str, language: str) -> str:
    return score_text(text, language).label


# --- irony ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Harika, yine gecikme 🙃 teşekkürler", "tr"),
        ("Süper, yine aynı arıza", "tr"),  # the irony word "yine" with a complaint
        ("Super, znowu opóźnienie 🙃", "pl"),
        ("Brawo, znowu awaria", "pl"),
        ("Bagus, delay lagi 🙃 terima kasih", "ms"),
        ("Bagus, rosak lagi", "ms"),
        ("Teşekkürler gerçekten, 3 saattir bekliyorum 👏👏", "tr"),  # clapping after a complaint
    ],
)
def test_praise_said_in_irony_counts_as_a_complaint(text, language):
    assert label(text, language) == "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Harika bir uçuştu, teşekkürler", "tr"),
        ("Yine harika bir uçuş, teşekkürler", "tr"),  # "again" alone is no irony
        ("Kargo geç geldi ama ürün harika, teşekkürler", "tr"),  # a contrast, then sincere praise
        ("Super obsługa, dzięki", "pl"),
        ("Bagus, datang lagi minggu depan", "ms"),
    ],
)
def test_sincere_praise_stays_positive(text, language):
    assert label(text, language) == "positive"


def test_ironic_praise_is_milder_than_its_praise_was_strong():
    ironic = score_text("Harika, yine gecikme 🙃", "tr").sentiment
    sincere = score_text("Harika 🙂", "tr").sentiment
    assert -sincere < ironic < 0


# --- negated verbs, waiting, silence --------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "valence"),
    [
        ("yapamiyorum", TR_CANNOT_VALENCE),  # yapamıyorum: I can't do
        ("bulunamadi", TR_CANNOT_VALENCE),  # bulunamadı: couldn't be found
        ("olamaz", TR_CANNOT_VALENCE),
        ("donmuyor", TR_DOES_NOT_VALENCE),  # dönmüyor: doesn't get back
        ("ilgilenmiyorsunuz", -1.2 * 0.8),  # a listed verb: its own valence, flipped by the suffix
        ("bilmiyorum", 0.0),  # "I don't know" stays neutral
        ("kampanyamiz", None),
        ("inanilmaz", None),
    ],
)
def test_unknown_turkish_verbs_in_a_negative_form_read_as_a_complaint(token, valence):
    found = lexicon("tr")._compute_valence(token)
    assert found == pytest.approx(valence) if valence is not None else found is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Uygulama sürekli çöküyor, ödeme yapamıyorum", "tr"),
        ("2 haftadır bekliyorum, kimse dönmüyor", "tr"),
        ("valizim kayboldu, hala haber yok", "tr"),
        ("sizden hiç memnun değilim", "tr"),
        ("Beklediğim gibi değil", "tr"),
        ("nikt nie odbiera, zero informacji", "pl"),
        ("Aplikacja się wiesza, nie da się zapłacić", "pl"),
        ("walizka zaginęła i nadal cisza", "pl"),
        ("parcel tak sampai lagi, call pun tak angkat", "ms"),
        ("internet putus, takde penjelasan", "ms"),
        ("servis macam haram, tak guna langsung", "ms"),
        ("rider tak datang tapi tulis penerima tiada, tak malu ke", "ms"),
    ],
)
def test_everyday_complaints_without_a_classic_sentiment_word_are_negative(text, language):
    assert label(text, language) == "negative"


def test_takde_negates_what_follows_in_malay():
    assert label("internet laju, takde putus langsung", "ms") == "positive"


def test_folding_keeps_cok_and_cok_apart():
    # "çök-" (crash, −2.2) must not swallow "çok" (very), nor "cok" typed without diacritics.
    assert label("kabin ekibi çok ilgiliydi, harika bir uçuştu", "tr") == "positive"
    assert label("cok guzel", "tr") == "positive"
    assert label("uygulama çöktü", "tr") == "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Check-in online buka berapa jam sebelum flight?", "ms"),  # sebelum "before", not sebel* "annoyed"
        ("Syarikat umumkan keputusan suku ketiga", "ms"),  # keputusan "decision", not putus "cut off"
        ("Bugün oldu mu sence? Bilmiyorum henüz", "tr"),
    ],
)
def test_neutral_words_a_shorter_stem_would_misread_stay_neutral(text, language):
    assert label(text, language) == "neutral"


def test_the_batch_path_agrees_with_one_text_at_a_time():
    texts = [
        "Harika, yine gecikme 🙃 teşekkürler",
        "Harika bir uçuştu, teşekkürler",
        "Super, znowu opóźnienie 🙃",
        "Bagus, delay lagi 🙃 terima kasih",
        "Uygulama sürekli çöküyor, ödeme yapamıyorum",
    ]
    languages = ["tr", "tr", "pl", "ms", "tr"]
    assert score_many(texts, languages) == [
        score_text(t, lang) for t, lang in zip(texts, languages, strict=True)
    ]


# --- handles and links --------------------------------------------------------------------------


def test_a_handle_is_no_word_of_the_post():
    # "@HizliKargo" holds "hızlı" (fast), "@SzybkaPaczka" "szybk*": neither praises anything.
    assert label("@HizliKargo kargom ne zaman teslim edilir?", "tr") == "neutral"
    assert label("@SzybkaPaczka kiedy przyjdzie moja paczka?", "pl") == "neutral"


def test_a_link_holds_no_crisis_term_but_the_text_does():
    assert score_text("details at https://example.com/refund-scam-boycott", "en").crisis_terms == []
    assert score_text("this is a scam, I want a refund", "en").crisis_terms != []


def test_english_sentiment_stays_vaders_on_the_whole_text():
    text = "@best_support_ever this is awful http://example.com/great"
    assert score_text(text, "en").sentiment == vader().polarity_scores(text)["compound"]


def test_repeated_question_marks_insist_and_one_is_a_plain_question():
    plain = score_text("Kargom hala gelmedi?", "tr").sentiment
    insisting = score_text("Kargom hala gelmedi???", "tr").sentiment
    assert insisting < plain < 0
    assert score_text("Kargom nerede?", "tr").sentiment == score_text("Kargom nerede", "tr").sentiment


# --- English loanwords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("stress betul dengan parcel ni, annoying", "ms"),
        ("Kargom yine ortada yok, worst experience", "tr"),
        ("Znowu to samo, horrible", "pl"),
    ],
)
def test_english_words_of_complaint_count_in_a_foreign_post(text, language):
    assert label(text, language) == "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Po południu jest lot do Gdańska", "pl"),  # "po" is "after", not VADER's −2.6 "po"
        ("Beli 2 gratis 1 di toko kami", "ms"),  # "gratis" is Malay/Indonesian for free
        ("Kami menjual paket Freedom dan Premium", "id"),  # positive English words are mostly names
    ],
)
def test_our_own_words_and_names_are_not_read_as_english(text, language):
    assert label(text, language) == "neutral"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("of ya yine aynı şey, sinir bozucu amk", "tr", "negative"),
        ("Askeri tören yarın saat onda", "tr", "neutral"),  # asker (soldier) is not aşk (love)
        ("haha çok komik ya", "tr", "positive"),
        ("kurwa, znowu to samo, ssie", "pl", "negative"),
        ("zajebisty koncert, wow", "pl", "positive"),
        ("penat betul, serabut kepala", "ms", "negative"),
        ("syok gila konsert semalam, padu", "ms", "positive"),
    ],
)
def test_colloquial_tweets_are_read(text, language, expected):
    assert label(text, language) == expected


def test_a_mixed_review_is_no_irony():
    # Cool, a little pricey, good location: the praise after a mild minus is sincere.
    text = "Suasana sejuk dan cocok untuk keluarga. Makanan agak mahal, tapi lokasi bagus."
    assert label(text, "id") == "positive"
    assert label("Suasana sejuk, makanan mahal, lokasi bagus", "id") != "negative"


def test_turkish_degil_negates_across_a_noun_phrase():
    assert label("iyi bir hizmet değil", "tr") == "negative"
    assert label("kötü bir hizmet değil", "tr") == "positive"
    assert label("iyi değil", "tr") == "negative"
