"""Backtest: where a rule would have fired, from stored buckets, writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.detection.backtest import BacktestHit, BacktestRate, backtest_rate, backtest_rule
from monitoring.intake.buckets import WIDTH
from monitoring.models import Bucket, Rule, Signal
from tests.factories import IncidentFactory, RuleFactory, WatchFactory

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def fill(watch, start: datetime, counts: list[int]) -> None:
    Bucket.objects.bulk_create(
        [Bucket(watch=watch, start=start + WIDTH * i, volume=c) for i, c in enumerate(counts) if c]
    )


@pytest.mark.django_db
def test_it_lists_each_burst_once_and_writes_no_signal():
    watch = WatchFactory()
    rule = RuleFactory(watch=watch, min_count=5, cooldown_minutes=60)
    fill(watch, NOW - timedelta(days=6), [1, 0, 0, 1] * 200)  # quiet days, one mention per 20 min
    fill(watch, NOW - timedelta(days=3), [8, 12, 15, 15, 15])  # a burst of 25 minutes
    fill(watch, NOW - timedelta(days=1), [9, 14])

    hits = backtest_rule(rule=rule, days=7, now=NOW)

    assert [h.window_start.date() for h in hits] == [
        (NOW - timedelta(days=3)).date(),
        (NOW - timedelta(days=1)).date(),
    ]
    # Within the burst's first ten minutes (this time yesterday was busier than the day's mean, so
    # the daily-cycle baseline may wait for its second bucket).
    burst_start = NOW - timedelta(days=3)
    assert burst_start < hits[0].at < burst_start + 2 * WIDTH
    assert hits[0].observed >= 8 and hits[0].expected > 0
    assert Signal.objects.count() == 0
    rule.refresh_from_db()
    assert rule.last_fired_at is None


@pytest.mark.django_db
def test_it_backtests_an_unsaved_edit_of_a_rule():
    watch = WatchFactory()
    fill(watch, NOW - timedelta(hours=2), [3, 3, 3])
    strict = Rule(watch=watch, kind="volume_spike", name="edit", min_count=20, window_minutes=15)
    loose = Rule(watch=watch, kind="volume_spike", name="edit", min_count=5, window_minutes=15)
    assert backtest_rule(rule=strict, days=1, now=NOW) == []
    assert len(backtest_rule(rule=loose, days=1, now=NOW)) == 1


def _hit(at: datetime) -> BacktestHit:
    return BacktestHit(at=at, window_start=at, window_end=at, observed=9, expected=1.0, score=0.0, severity=3)


@pytest.mark.django_db
def test_the_rate_counts_only_the_alerts_outside_incidents():
    watch = WatchFactory()
    rule = RuleFactory(watch=watch)
    IncidentFactory(
        watch=watch,
        status="resolved",
        first_signal_at=NOW - timedelta(days=3, hours=1),
        detected_at=NOW - timedelta(days=3),
        resolved_at=NOW - timedelta(days=2),
    )
    hits = [_hit(NOW - timedelta(days=d, hours=h)) for d, h in [(6, 0), (5, 0), (3, 0), (2, 12), (1, 0)]]

    rate = backtest_rate(rule=rule, hits=hits, days=14, now=NOW)

    assert (rate.fired, rate.outside_incidents) == (5, 3)
    assert rate.per_week == pytest.approx(1.5)
    assert rate.sentence == "about 2 alerts a week"


@pytest.mark.parametrize(
    ("outside", "days", "sentence"),
    [
        (0, 7, "no alerts outside incidents"),
        (1, 7, "about 1 alert a week"),
        (30, 7, "about 4 alerts a day"),
        (1, 30, "about 1 alert a month"),
    ],
)
def test_the_rate_reads_in_the_unit_a_manager_would_use(outside, days, sentence):
    rate = BacktestRate(days=days, fired=outside, outside_incidents=outside, per_week=outside * 7 / days)
    assert rate.sentence == sentence
