"""Exact-duplicate texts (reposts, copy-paste campaigns) are scored once and their scores reused."""

from __future__ import annotations

import pytest

from monitoring.scoring import duplicates, score_many, score_mention
from monitoring.scoring.duplicates import duplicate_cache

CAMPAIGN = "Boycott Acme Air! They lost my bag and refused a refund. Scam!"


@pytest.fixture(autouse=True)
def empty_cache():
    duplicate_cache.clear()
    yield
    duplicate_cache.clear()


def test_copies_in_one_batch_are_scored_once_and_count_as_hits():
    scores = score_many([CAMPAIGN, "Flying with Acme Air today", CAMPAIGN, CAMPAIGN])
    assert (duplicate_cache.lookups, duplicate_cache.hits) == (4, 2)
    assert scores[0] == scores[2] == scores[3]
    assert duplicate_cache.hit_rate == pytest.approx(0.5)


def test_a_copy_in_a_later_batch_is_a_hit_with_the_same_scores():
    first = score_many([CAMPAIGN])[0]
    duplicate_cache.reset_stats()
    again = score_many([CAMPAIGN, CAMPAIGN])
    assert (duplicate_cache.lookups, duplicate_cache.hits) == (2, 2)
    assert again == [first, first]


def test_cached_scores_are_the_scores_of_a_fresh_scoring():
    texts = [CAMPAIGN, "Uçuşum iptal edildi, rezalet!", "Harika, yine gecikme 🙃", CAMPAIGN]
    cached = score_many(texts, ["en", "tr", "tr", "en"])
    duplicate_cache.clear()
    fresh = [score_mention(text, tag) for text, tag in zip(texts, ["en", "tr", "tr", "en"], strict=True)]
    assert cached == fresh


def test_risk_is_still_weighed_per_author():
    small, large = score_many([CAMPAIGN, CAMPAIGN], reaches=[10, 2_000_000])
    assert small.sentiment == large.sentiment and small.crisis_terms == large.crisis_terms
    assert small.risk < large.risk


def test_each_score_gets_its_own_list_of_terms():
    one, two = score_many([CAMPAIGN, CAMPAIGN])
    assert one.crisis_terms and one.crisis_terms is not two.crisis_terms
    one.crisis_terms.append("changed by a caller")
    assert "changed by a caller" not in score_many([CAMPAIGN])[0].crisis_terms


def test_the_platform_tag_is_part_of_the_key():
    # "super" tagged Polish is Polish praise; untagged it is detected: two scorings.
    tagged, untagged = score_many(["super", "super"], ["pl", None])
    assert duplicate_cache.hits == 0
    assert tagged.language == "pl"
    assert untagged.language != "pl"


def test_a_watchs_own_triggers_get_their_own_cache():
    text = "The new Acme blender exploded in my kitchen"
    builtin = score_mention(text)
    custom = score_mention(text, scenario_terms={"misinformation": {"en": ["blender"]}})
    assert duplicate_cache.hits == 0
    assert custom.scenario_hint == "misinformation"
    assert builtin.scenario_hint != "misinformation"


def test_the_cache_is_bounded_and_keeps_what_recurs(monkeypatch):
    monkeypatch.setattr(duplicates, "DUPLICATE_CACHE_SIZE", 2)
    score_many(["one", "two"])
    score_many(["three"])  # the first generation is full: "one" and "two" become the previous one
    duplicate_cache.reset_stats()
    score_many(["one"])  # found in the previous generation, and copied forward
    assert duplicate_cache.hits == 1
    score_many(["four"])  # the current generation ("three", "one") is full: "two" is dropped
    duplicate_cache.reset_stats()
    score_many(["one", "two"])
    assert duplicate_cache.hits == 1
