"""The learning period: relative rules stay quiet for their baseline length, absolute ones do not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring.detection.defaults import default_rules_for
from monitoring.detection.learning import is_learning, rule_learning_until, watch_learning_until
from monitoring.detection.services import detect_for_watch
from monitoring.models import Rule, Watch
from tests.factories import MentionFactory, SourceFactory, WatchFactory
from tests.monitoring.detection.test_detection import NOW, burst


def _rule(kind: str) -> Rule:
    return next(r for r in default_rules_for(None) if r.kind == kind)


def test_a_relative_rule_learns_for_its_baseline_from_the_later_creation():
    rule = _rule("volume_spike")
    rule.created_at = NOW - timedelta(hours=30)
    watch_created = NOW - timedelta(hours=2)
    assert rule_learning_until(rule, watch_created) == watch_created + timedelta(hours=24)
    assert is_learning(rule, watch_created, NOW)
    assert not is_learning(rule, watch_created, watch_created + timedelta(hours=24))


def test_an_absolute_rule_and_an_unknown_start_never_learn():
    assert rule_learning_until(_rule("crisis_terms"), NOW) is None
    assert rule_learning_until(_rule("high_reach_negative"), NOW) is None
    assert rule_learning_until(_rule("volume_spike"), None) is None


def test_a_watch_learns_until_its_last_active_relative_rule_has_a_baseline():
    short, long, inactive = _rule("volume_spike"), _rule("negative_spike"), _rule("volume_spike")
    for rule in (short, long, inactive):
        rule.created_at = NOW
    long.baseline_hours = 48
    inactive.baseline_hours, inactive.is_active = 96, False
    assert watch_learning_until([short, long, inactive], NOW) == NOW + timedelta(hours=48)
    assert watch_learning_until([_rule("crisis_terms")], NOW) is None


@pytest.mark.django_db
def test_a_new_watch_fires_only_its_absolute_rules_while_learning():
    watch = WatchFactory()
    for rule in default_rules_for(watch):
        rule.save()
    # The watch and its rules started an hour before the burst: the baseline is still being learned.
    Watch.objects.filter(pk=watch.pk).update(created_at=NOW - timedelta(hours=1))
    Rule.objects.filter(watch=watch).update(created_at=NOW - timedelta(hours=1))
    burst(watch)
    MentionFactory(
        source=SourceFactory(watch=watch),
        text="Acme Air is a disgrace",
        author="famous",
        author_reach=2_000_000,
        published_at=NOW - timedelta(minutes=1),
        state="scored",
        sentiment=-0.9,
        sentiment_label="negative",
        risk=0.9,
    )
    kinds = sorted(s.rule.kind for s in detect_for_watch(watch_id=watch.pk, now=NOW))
    assert kinds == ["crisis_terms", "high_reach_negative"]
    # Had they started a day earlier, the same burst would have fired the relative rules too.
    Watch.objects.filter(pk=watch.pk).update(created_at=NOW - timedelta(hours=25))
    Rule.objects.filter(watch=watch).update(created_at=NOW - timedelta(hours=25), last_fired_at=None)
    kinds = sorted(s.rule.kind for s in detect_for_watch(watch_id=watch.pk, now=NOW))
    assert kinds == ["negative_spike", "volume_spike"]
