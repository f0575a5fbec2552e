"""Detection rules over buckets: the Poisson tail, thresholds, cooldown, dedupe and the summary."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from monitoring.detection.defaults import default_rules_for
from monitoring.detection.evaluators import (
    BucketPoint,
    Context,
    Series,
    evaluate,
    poisson_sf,
    robust_baseline,
    robust_z,
)
from monitoring.detection.services import detect_for_watch
from monitoring.intake.buckets import WIDTH, bucket_start
from monitoring.models import Bucket, Rule, Signal
from tests.factories import MentionFactory, RuleFactory, SourceFactory, WatchFactory

NOW = datetime(2026, 3, 1, 12, 7, tzinfo=UTC)  # in the bucket 12:05–12:10


def direct_sf(k: int, lam: float) -> float:
    return 1.0 - sum(math.exp(-lam) * lam**j / math.factorial(j) for j in range(k))


def series_with(
    baseline_per_bucket: int, window_counts: list[int], *, hours: int = 24, field: str = "volume"
):
    """A series with a flat baseline and then ``window_counts`` in the last buckets up to NOW."""
    current = bucket_start(NOW)
    points = []
    n = len(window_counts)
    for i in range(hours * 12):
        points.append(BucketPoint(start=current - WIDTH * (n + i), **{field: baseline_per_bucket}))
    for i, count in enumerate(window_counts):
        points.append(BucketPoint(start=current - WIDTH * (n - 1 - i), **{field: count}))
    return Series(points)


def rule(kind: str = "volume_spike", **kwargs) -> Rule:
    base = next(r for r in default_rules_for(None) if r.kind == kind)
    for key, value in kwargs.items():
        setattr(base, key, value)
    return base


# --- Poisson tail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "lam"), [(0, 3.0), (1, 2.0), (3, 3.0), (5, 0.25), (12, 4.0), (20, 30.0), (2, 9.5)]
)
def test_the_poisson_tail_matches_the_direct_sum(k, lam):
    assert poisson_sf(k, lam) == pytest.approx(direct_sf(k, lam), rel=1e-9, abs=1e-15)


def test_the_poisson_tail_is_stable_for_large_rates():
    assert poisson_sf(1_000_000, 1_000_000) == pytest.approx(0.5, abs=0.01)
    tiny = poisson_sf(1_010_000, 1_000_000)  # ten standard deviations above
    assert 0 <= tiny < 1e-20
    assert poisson_sf(990_000, 1_000_000) == pytest.approx(1.0)
    assert poisson_sf(3, 0.0) == 0.0


def test_robust_z_never_divides_by_a_zero_spread():
    z, median = robust_z(10, [0, 0, 0, 0])
    assert median == 0 and z == pytest.approx(10.0)


# --- Volume spike ---------------------------------------------------------------------------------


def test_a_burst_over_a_calm_baseline_fires():
    breach = evaluate(rule(), Context(series_with(1, [2, 6, 9])), NOW)
    assert breach is not None
    assert breach.observed == 17
    assert breach.expected == pytest.approx(3.0)
    assert breach.window_start == bucket_start(NOW) - 2 * WIDTH
    assert breach.score < 1e-4


def test_a_busy_but_steady_watch_does_not_fire():
    assert evaluate(rule(), Context(series_with(20, [22, 19, 24])), NOW) is None


def test_it_never_fires_below_min_count():
    r = rule(min_count=20)
    assert evaluate(r, Context(series_with(0, [5, 5, 5])), NOW) is None
    assert evaluate(rule(min_count=5), Context(series_with(0, [5, 5, 5])), NOW) is not None


def test_an_empty_history_is_floored_so_a_trickle_is_not_a_crisis():
    # Three mentions in 15 minutes on a watch with no history: the floor (1/hour) makes that plausible.
    assert evaluate(rule(min_count=1), Context(series_with(0, [1, 1, 1])), NOW) is None


def test_sensitivity_orders_the_thresholds():
    series = series_with(2, [5, 6, 6])  # 17 vs 6 expected: p ≈ 1.3e-4
    fired = {
        s: evaluate(rule(sensitivity=s), Context(series), NOW) is not None
        for s in ("fewer", "balanced", "more")
    }
    assert fired == {"fewer": False, "balanced": False, "more": True}
    assert evaluate(rule(sensitivity="more"), Context(series_with(2, [5, 6, 3])), NOW) is None


def test_a_much_larger_breach_raises_the_severity():
    small = evaluate(rule(severity=3), Context(series_with(1, [3, 4, 5])), NOW)
    large = evaluate(rule(severity=3), Context(series_with(1, [40, 60, 80])), NOW)
    assert small is not None and small.severity == 3
    assert large is not None and large.severity == 1


def test_the_robust_z_method_is_chosen_through_params():
    r = rule(params={"method": "robust_z"})
    breach = evaluate(r, Context(series_with(2, [10, 12, 15])), NOW)
    assert breach is not None and breach.detail["method"] == "robust_z"
    assert evaluate(r, Context(series_with(10, [12, 11, 10])), NOW) is None


# --- Other kinds ----------------------------------------------------------------------------------


def test_negative_count_spike_fires_on_negatives_over_their_baseline():
    breach = evaluate(rule("negative_spike"), Context(series_with(0, [3, 4, 6], field="negative")), NOW)
    assert breach is not None and breach.detail["test"] == "negative_count"


def test_negative_share_spike_fires_when_most_of_a_busy_window_turns_negative():
    current = bucket_start(NOW)
    points = [BucketPoint(start=current - WIDTH * (3 + i), volume=30, negative=6) for i in range(288)]
    points += [BucketPoint(start=current - WIDTH * i, volume=30, negative=20) for i in range(3)]
    breach = evaluate(
        rule("negative_spike", params={"min_expected_per_hour": 0.5, "p": 1e-30}),
        Context(Series(points)),
        NOW,
    )
    assert breach is not None and breach.detail["test"] == "negative_share"
    assert breach.detail["share"] == pytest.approx(60 / 90, abs=0.001)


def test_high_reach_negative_fires_on_one_loud_voice_and_respects_sensitivity():
    calls = []

    def lookup(start, end, min_reach):
        calls.append(min_reach)
        return 1 if min_reach <= 150_000 else 0

    assert evaluate(rule("high_reach_negative"), Context(Series(), high_reach=lookup), NOW) is not None
    assert (
        evaluate(rule("high_reach_negative", sensitivity="fewer"), Context(Series(), high_reach=lookup), NOW)
        is None
    )
    assert calls == [100_000, 200_000]


def test_crisis_term_hits_fire_at_the_threshold():
    assert (
        evaluate(rule("crisis_terms"), Context(series_with(0, [1, 1, 2], field="crisis_term_hits")), NOW)
        is None
    )
    breach = evaluate(rule("crisis_terms"), Context(series_with(0, [1, 2, 2], field="crisis_term_hits")), NOW)
    assert breach is not None and breach.observed == 5


# --- detect_for_watch -----------------------------------------------------------------------------


def burst(watch, *, n: int = 20, text: str = "Acme Air lost my bag, refund now, scam!!") -> None:
    source = SourceFactory(watch=watch)
    start = bucket_start(NOW)
    for i in range(n):
        MentionFactory(
            source=source,
            text=text,
            author=f"angry{i % 4}",
            author_reach=1000 * i,
            published_at=start + timedelta(seconds=10 * i),
            state="scored",
            sentiment=-0.6 - i / 100,
            sentiment_label="negative",
            risk=0.5 + i / 100,
            crisis_terms=["refund", "scam"],
        )
    Bucket.objects.create(watch=watch, start=start, volume=n, negative=n, crisis_term_hits=n)


def settled(watch) -> None:
    """Backdate the watch and its rules a month before NOW: their learning period is long over."""
    month_before = NOW - timedelta(days=30)
    type(watch).objects.filter(pk=watch.pk).update(created_at=month_before)
    Rule.objects.filter(watch=watch).update(created_at=month_before)


@pytest.mark.django_db
def test_detect_for_watch_stores_a_signal_a_responder_can_read():
    watch = WatchFactory(name="Acme Air", include_terms=["acme air"])
    RuleFactory(watch=watch, kind="volume_spike", min_count=5, name="Volume")
    settled(watch)
    burst(watch)

    signals = detect_for_watch(watch_id=watch.pk, now=NOW)

    assert len(signals) == 1
    signal = signals[0]
    assert signal.observed == 20 and signal.mentions.count() == 20
    summary = signal.summary
    assert summary["top_terms"][:2] == ["refund", "scam"]
    assert summary["top_authors"][0]["mentions"] == 5
    assert len(summary["sample_mentions"]) == 5
    assert summary["sample_mentions"][0]["risk"] == pytest.approx(0.69)
    assert summary["sentiment_mix"] == {"negative": 20, "neutral": 0, "positive": 0}
    assert Rule.objects.get(name="Volume").last_fired_at == NOW


@pytest.mark.django_db
def test_a_rule_in_cooldown_stays_quiet():
    watch = WatchFactory()
    r = RuleFactory(watch=watch, min_count=5, cooldown_minutes=60)
    settled(watch)
    burst(watch)
    assert len(detect_for_watch(watch_id=watch.pk, now=NOW)) == 1
    assert detect_for_watch(watch_id=watch.pk, now=NOW + timedelta(minutes=30)) == []
    r.refresh_from_db()
    assert r.last_fired_at == NOW


@pytest.mark.django_db
def test_two_detectors_on_the_same_window_store_one_signal():
    watch = WatchFactory()
    r = RuleFactory(watch=watch, min_count=5)
    settled(watch)
    burst(watch)
    assert len(detect_for_watch(watch_id=watch.pk, now=NOW)) == 1
    # A second detector that read the rule before the first one committed: no cooldown in its view.
    Rule.objects.filter(pk=r.pk).update(last_fired_at=None)
    assert detect_for_watch(watch_id=watch.pk, now=NOW + timedelta(seconds=30)) == []
    assert Signal.objects.filter(rule=r).count() == 1


@pytest.mark.django_db
def test_every_kind_fires_on_a_negative_burst_with_a_loud_author():
    watch = WatchFactory()
    for r in default_rules_for(watch):
        r.save()
    settled(watch)
    burst(watch)
    MentionFactory(
        source=SourceFactory(watch=watch),
        text="Acme Air is a disgrace",
        author="famous",
        author_reach=2_000_000,
        published_at=bucket_start(NOW) + timedelta(minutes=1),
        state="scored",
        sentiment=-0.9,
        sentiment_label="negative",
        risk=0.9,
    )
    kinds = sorted(s.rule.kind for s in detect_for_watch(watch_id=watch.pk, now=NOW))
    assert kinds == ["crisis_terms", "high_reach_negative", "negative_spike", "volume_spike"]
    loud = Signal.objects.get(rule__kind="high_reach_negative")
    assert list(loud.mentions.values_list("author", flat=True)) == ["famous"]


# --- Robust baseline ------------------------------------------------------------------------------


def test_the_robust_baseline_leaves_out_a_past_burst():
    calm = [1.0] * (24 * 12)
    calm[100:103] = [200.0, 200.0, 200.0]  # an incident an afternoon ago: one 15-minute window
    expected, dispersion = robust_baseline(calm, n_window=3, floor=0.25)
    assert expected == pytest.approx(3.0)
    assert dispersion == pytest.approx(1.0)


def _series_of(baseline: list[float], window: list[int]) -> Series:
    """``baseline`` per bucket (oldest first) and then ``window`` in the last buckets up to NOW."""
    current = bucket_start(NOW)
    n = len(window)
    points = [
        BucketPoint(start=current - WIDTH * (n + i), volume=int(v)) for i, v in enumerate(reversed(baseline))
    ]
    points += [BucketPoint(start=current - WIDTH * (n - 1 - i), volume=v) for i, v in enumerate(window)]
    return Series(points)


def test_a_bursty_baseline_needs_a_bigger_window_than_a_steady_one():
    bursty = ([0.0] * 3 + [12.0] * 3) * 48  # 18 a window on average, in clumps of 36
    expected, dispersion = robust_baseline(bursty, n_window=3, floor=0.25)
    assert expected == pytest.approx(18.0) and dispersion > 10
    assert evaluate(rule(), Context(_series_of(bursty, [14, 13, 13])), NOW) is None
    steady = [6.0] * (24 * 12)
    assert evaluate(rule(), Context(_series_of(steady, [14, 13, 13])), NOW) is not None


def test_the_baseline_expects_yesterdays_daily_peak_but_not_one_burst_in_it():
    day = [0.0] * (24 * 12)
    day[0:12] = [6.0] * 12  # the hour that began this time yesterday, the daily peak: 18 a window
    expected, _ = robust_baseline(day, n_window=3, floor=0.25)
    assert expected == pytest.approx(18.0)
    once = [0.0] * (24 * 12)
    once[0:3] = [60.0] * 3  # one burst at this time yesterday
    expected, _ = robust_baseline(once, n_window=3, floor=0.25)
    assert expected == pytest.approx(0.25)
