"""Folding spellings without diacritics onto the lexicons, without merging two distinct words."""

from __future__ import annotations

import pytest

from monitoring.scoring import score_many, score_text
from monitoring.scoring.text import KEPT_STEMS, fold, fold_raw, raw_tokens


@pytest.mark.parametrize(
    "text",
    [
        "Bu iş olur, merak etmeyin.",  # "it'll do"
        "Kargo yarın teslim oluyor.",
        "Toplantı olup bitti.",
        "Bugün yine oldu, normal.",
        "Çok sık oluyor bu.",  # "often"
    ],
)
def test_everyday_words_of_olmak_are_not_dead(text):
    # Folded, "olur"/"oluyor"/"oldu" would read as the stems "ölü*"/"öldü" (dead, died, −3).
    assert score_text(text, "tr").sentiment >= 0


def test_olumlu_is_positive_and_olumsuz_negative():
    assert score_text("Müşteri hizmetlerinden olumlu bir yanıt aldım", "tr").label == "positive"
    assert score_text("Şirketten olumsuz bir yanıt geldi", "tr").label == "negative"


@pytest.mark.parametrize("text", ["Kazada iki kişi öldü", "Fabrikada ölü var", "ÖLÜÜÜM tehlikesi var"])
def test_dead_and_died_still_score_strongly_negative(text):
    score = score_text(text, "tr")
    assert score.sentiment < -0.6


def test_a_kept_word_still_finds_its_crisis_term():
    assert score_text("Fabrikada ölü var", "tr").crisis_terms == ["ölü"]
    assert score_text("Fabrikada olur böyle", "tr").crisis_terms == []


def test_diacritics_are_still_folded_elsewhere():
    assert fold("ÇOK KÖTÜ hizmet") == "cok kotu hizmet"
    assert (
        score_text("cok kotu hizmet", "tr").label == score_text("çok kötü hizmet", "tr").label == "negative"
    )


def test_fold_keeps_kept_words_inside_a_text_and_agrees_with_the_token_path():
    text = "İstanbul'da ölüm ve şık bir mağaza, olur"
    lowered = text.lower()
    assert fold(text) == "istanbul'da ölüm ve şık bir magaza, olur"
    assert fold_raw(lowered, raw_tokens(lowered)) == [
        "istanbul",
        "da",
        "ölüm",
        "ve",
        "şık",
        "bir",
        "magaza",
        ",",
        "olur",
    ]


def test_every_kept_stem_has_a_diacritic():
    # An ASCII stem could never be told apart from its folded spelling.
    assert KEPT_STEMS
    assert all(not stem.isascii() for stem in KEPT_STEMS)


def test_the_batch_path_scores_kept_words_as_one_text_does():
    texts = ["olur", "öldü", "Bu iş olur", "Kazada iki kişi öldü", "sık sık"]
    assert score_many(texts, ["tr"] * len(texts)) == [score_text(t, "tr") for t in texts]
