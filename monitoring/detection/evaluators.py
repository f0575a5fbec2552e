"""Detection's evaluators: rules judged over a watch's 5-minute buckets.

Each rule kind has one *pure* evaluator registered in ``EVALUATORS``: it reads a ``Context`` (the
watch's bucket series, plus a lookup of high-reach negative mentions) as of a moment ``now`` and
returns a ``Breach`` or ``None``. Production (``monitoring.detection.services``), the backtest and
the CrisisLex replay bench all call the same evaluators, so what the bench measures is what runs.

The window is the ``window_minutes`` ending in ``now``'s (possibly still filling) bucket; the
baseline is the ``baseline_hours`` before the window. No database here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from monitoring.detection.defaults import DEFAULT_MIN_EXPECTED_PER_HOUR, DEFAULT_MIN_REACH
from monitoring.detection.learning import is_learning
from monitoring.intake.buckets import WIDTH, BucketCounts, window_bounds
from monitoring.models import Rule, RuleKind, Sensitivity, Severity

# Sensitivity → thresholds. "more" alerts earlier and more often, "fewer" only on clear breaches.
POISSON_P = {Sensitivity.FEWER: 1e-6, Sensitivity.BALANCED: 1e-4, Sensitivity.MORE: 1e-3}
ROBUST_Z = {Sensitivity.FEWER: 6.0, Sensitivity.BALANCED: 4.0, Sensitivity.MORE: 3.0}
SHARE_DELTA = {Sensitivity.FEWER: 0.35, Sensitivity.BALANCED: 0.25, Sensitivity.MORE: 0.15}
COUNT_FACTOR = {Sensitivity.FEWER: 1.5, Sensitivity.BALANCED: 1.0, Sensitivity.MORE: 0.6}
REACH_FACTOR = {Sensitivity.FEWER: 2.0, Sensitivity.BALANCED: 1.0, Sensitivity.MORE: 0.5}


# --- Statistics -----------------------------------------------------------------------------------


def poisson_sf(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam), computed in log space (stable for large ``lam`` and ``k``)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if k > lam:
        # Upper tail: pmf(k) · (1 + lam/(k+1) + lam²/((k+1)(k+2)) + …), terms shrink geometrically.
        log_pmf = -lam + k * math.log(lam) - math.lgamma(k + 1)
        total, term, i = 1.0, 1.0, k
        while True:
            i += 1
            term *= lam / i
            total += term
            if term < 1e-16 * total:
                break
        return min(1.0, math.exp(log_pmf + math.log(total)))
    # Lower tail: 1 − P(X ≤ k−1), summing pmf(k−1), pmf(k−2), … downwards.
    j = k - 1
    log_pmf = -lam + j * math.log(lam) - math.lgamma(j + 1)
    total, term = 1.0, 1.0
    while j > 0:
        term *= j / lam
        j -= 1
        total += term
        if term < 1e-16 * total:
            break
    return max(0.0, 1.0 - math.exp(log_pmf + math.log(total)))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return 0.0
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def robust_z(observed: float, history: list[float], *, floor: float = 1.0) -> tuple[float, float]:
    """``(z, median)`` of ``observed`` against ``history`` with a MAD scale (floored, never zero)."""
    median = _median(history)
    mad = _median([abs(v - median) for v in history]) * 1.4826
    scale = max(mad, math.sqrt(max(median, floor)), 1.0)
    return (observed - median) / scale, median


DAY_BUCKETS = 24 * 12
BASELINE_TRIM = 0.05  # the busiest share of baseline windows left out: past incidents and outliers


def robust_baseline(values: list[float], *, n_window: int, floor: float) -> tuple[float, float]:
    """``(expected, dispersion)`` of a window's count from the trailing per-bucket ``values``.

    The baseline is cut into windows of ``n_window`` buckets; the busiest ``BASELINE_TRIM`` of them
    are dropped, so a past incident or a one-off burst in the baseline neither hides the next one
    nor inflates the spread. ``expected`` is the mean of the rest (at least ``floor``: an empty
    history is not "zero"). ``dispersion`` is their variance over their mean, at least 1: a brand's
    chatter comes in bursts and daily cycles, far more variable than a Poisson stream, and the
    count test is run quasi-Poisson (both counts divided by it) so ordinary bursts do not alarm.
    """
    in_order = [sum(values[i : i + n_window]) for i in range(0, len(values) - n_window + 1, n_window)]
    sums = sorted(in_order)
    kept = sums[: max(1, len(sums) - int(len(sums) * BASELINE_TRIM))] if sums else [0.0]
    mean = sum(kept) / len(kept)
    expected = max(mean, floor)
    if len(in_order) * n_window >= DAY_BUCKETS:
        # A day of history: the hour that began this time yesterday raises the expectation at the
        # daily peak. Its median window, so one burst yesterday (an incident) does not count.
        expected = max(expected, _median(in_order[: max(1, 4 // max(1, n_window // 3))]))
    variance = sum((v - mean) ** 2 for v in kept) / max(1, len(kept) - 1)
    return expected, max(1.0, variance / expected)


def severity_for(rule: Rule, observed: float, expected: float, *, floor_count: int) -> int:
    """``rule.severity`` is the baseline; a breach far past expectation (and big) raises it."""
    ratio = observed / expected if expected > 0 else math.inf
    bump = 0
    if ratio >= 5 and observed >= 2 * max(floor_count, 1):
        bump = 1
    if ratio >= 20 and observed >= 5 * max(floor_count, 1):
        bump = 2
    return max(int(Severity.SEV1), int(rule.severity) - bump)


# --- Series and context ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class BucketPoint(BucketCounts):
    """One bucket of a watch's series, as detection reads it."""

    start: datetime


class Series:
    """A watch's buckets by start; missing buckets count as zero (a quiet bucket is data)."""

    def __init__(self, points: Iterable[BucketPoint] = ()) -> None:
        self.points: dict[datetime, BucketPoint] = {}
        self.starts: list[datetime] = []
        for point in points:
            self.put(point)

    def put(self, point: BucketPoint) -> None:
        if point.start not in self.points:
            bisect.insort(self.starts, point.start)
        self.points[point.start] = point

    def point(self, start: datetime) -> BucketPoint:
        """The bucket at ``start``, created empty if missing (for feeding counts in)."""
        found = self.points.get(start)
        if found is None:
            found = BucketPoint(start=start)
            self.put(found)
        return found

    def between(self, start: datetime, end: datetime) -> list[BucketPoint]:
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return [self.points[s] for s in self.starts[lo:hi]]

    def total(self, name: str, start: datetime, end: datetime) -> float:
        total: float = sum(getattr(p, name) for p in self.between(start, end))
        return total

    def per_bucket(self, name: str, start: datetime, end: datetime) -> list[float]:
        """Values for every bucket in ``[start, end)``, zeros included."""
        values: list[float] = []
        moment = start
        while moment < end:
            point = self.points.get(moment)
            values.append(getattr(point, name) if point else 0)
            moment += WIDTH
        return values


HighReachLookup = Callable[[datetime, datetime, int], int]


@dataclass
class Context:
    series: Series
    # (window_start, window_end, min_reach) → number of negative mentions at or above min_reach
    high_reach: HighReachLookup = field(default=lambda start, end, min_reach: 0)
    # When the watch was created: with the rule's own creation it bounds the learning period
    # (``monitoring.detection.learning``). None when unknown (a replay of a bare series).
    watch_created_at: datetime | None = None
    # The backtest asks what the thresholds would have done over history, learning or not.
    honour_learning: bool = True


@dataclass
class BreachFigures:
    """What a breach measured: stored on its signal, listed by the backtest."""

    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    score: float
    severity: int

    def figures(self) -> dict[str, Any]:
        """The measured fields by name (``Signal`` has a column for each)."""
        return {f.name: getattr(self, f.name) for f in fields(BreachFigures)}


@dataclass
class Breach(BreachFigures):
    detail: dict[str, Any] = field(default_factory=dict)
    # Which of the window's mentions this breach is about (linked to the signal).
    keep: Callable[[WindowMention], bool] = field(default=lambda mention: True)


def _sensitivity(rule: Rule) -> Sensitivity:
    return Sensitivity(rule.sensitivity) if rule.sensitivity in POISSON_P else Sensitivity.BALANCED


def _windows(rule: Rule, now: datetime) -> tuple[datetime, datetime, datetime, int, int]:
    window_start, window_end = window_bounds(now, rule.window_minutes)
    n_window = max(1, rule.window_minutes // 5)
    n_baseline = max(1, int(rule.baseline_hours) * 12)
    baseline_start = window_start - WIDTH * n_baseline
    return window_start, window_end, baseline_start, n_window, n_baseline


def _param(rule: Rule, name: str, default: Any) -> Any:
    params = rule.params if isinstance(rule.params, dict) else {}
    value = params.get(name, default)
    return default if value is None else value


# --- Evaluators -----------------------------------------------------------------------------------


class CountTest(NamedTuple):
    """A count test over the rule's window against its trailing baseline."""

    fired: bool
    observed: float
    expected: float
    score: float  # the p-value (Poisson) or the robust z
    window_start: datetime
    window_end: datetime


def _count_spike(
    rule: Rule, ctx: Context, now: datetime, *, name: str, floor_per_hour: float
) -> CountTest | None:
    """Shared by volume and negative spikes; None below the rule's minimum count."""
    window_start, window_end, baseline_start, n_window, _ = _windows(rule, now)
    observed = ctx.series.total(name, window_start, window_end)
    if observed < rule.min_count:
        return None
    floor_per_bucket = float(floor_per_hour) / 12
    if _param(rule, "method", "poisson") == "robust_z":
        values = ctx.series.per_bucket(name, baseline_start, window_start)
        sums = [sum(values[i : i + n_window]) for i in range(0, max(1, len(values) - n_window + 1))]
        z, median = robust_z(observed, sums, floor=floor_per_bucket * n_window)
        expected = max(median, floor_per_bucket * n_window)
        threshold = float(_param(rule, "z", ROBUST_Z[_sensitivity(rule)]))
        return CountTest(z >= threshold, observed, expected, z, window_start, window_end)
    values = ctx.series.per_bucket(name, baseline_start, window_start)
    expected, dispersion = robust_baseline(values, n_window=n_window, floor=floor_per_bucket * n_window)
    p = poisson_sf(int(observed / dispersion), expected / dispersion)
    threshold = float(_param(rule, "p", POISSON_P[_sensitivity(rule)]))
    return CountTest(p < threshold, observed, expected, p, window_start, window_end)


def _count_breach(
    rule: Rule,
    test: CountTest,
    *,
    detail: dict[str, Any],
    keep: Callable[[WindowMention], bool] = lambda mention: True,
) -> Breach:
    """The breach of a fired count test, its severity scaled by how far it overshot."""
    return Breach(
        window_start=test.window_start,
        window_end=test.window_end,
        observed=test.observed,
        expected=round(test.expected, 4),
        score=test.score,
        severity=severity_for(rule, test.observed, test.expected, floor_count=rule.min_count),
        detail=detail,
        keep=keep,
    )


def evaluate_volume_spike(rule: Rule, ctx: Context, now: datetime) -> Breach | None:
    """More mentions in the window than the trailing baseline makes plausible (Poisson or robust z)."""
    floor = float(_param(rule, "min_expected_per_hour", DEFAULT_MIN_EXPECTED_PER_HOUR))
    test = _count_spike(rule, ctx, now, name="volume", floor_per_hour=floor)
    if test is None or not test.fired:
        return None
    return _count_breach(rule, test, detail={"method": _param(rule, "method", "poisson"), "test": "volume"})


def evaluate_negative_spike(rule: Rule, ctx: Context, now: datetime) -> Breach | None:
    """Negative mentions spike in count (Poisson vs baseline negatives) or in share of the window."""
    floor = float(_param(rule, "min_expected_per_hour", 0.5))
    test = _count_spike(rule, ctx, now, name="negative", floor_per_hour=floor)
    if test is None:
        return None
    detail: dict[str, Any] = {"test": "negative_count"}
    _, _, baseline_start, _, _ = _windows(rule, now)
    ws, we = test.window_start, test.window_end
    volume = ctx.series.total("volume", ws, we)
    share = test.observed / volume if volume else 0.0
    base_volume = ctx.series.total("volume", baseline_start, ws)
    base_negative = ctx.series.total("negative", baseline_start, ws)
    # With little history, assume a typical share rather than trusting a handful of mentions.
    base_share = (
        base_negative / base_volume if base_volume >= 20 else float(_param(rule, "baseline_share", 0.2))
    )
    min_share = float(_param(rule, "min_share", 0.5))
    share_fired = share >= max(min_share, base_share + SHARE_DELTA[_sensitivity(rule)])
    if not test.fired and share_fired:
        detail = {"test": "negative_share"}
        test = test._replace(fired=True, expected=max(base_share * volume, 0.01), score=share)
    if not test.fired:
        return None
    detail.update({"share": round(share, 3), "baseline_share": round(base_share, 3), "volume": volume})
    return _count_breach(
        rule, test, detail=detail, keep=lambda mention: mention.sentiment_label == "negative"
    )


def evaluate_high_reach_negative(rule: Rule, ctx: Context, now: datetime) -> Breach | None:
    """A negative mention from an author with at least ``params.min_reach`` followers.

    One such mention is enough by default (``params.min_mentions``); ``min_count`` is not used, since
    the point of this rule is the single loud voice.
    """
    window_start, window_end, *_ = _windows(rule, now)
    min_reach = int(int(_param(rule, "min_reach", DEFAULT_MIN_REACH)) * REACH_FACTOR[_sensitivity(rule)])
    needed = max(1, int(_param(rule, "min_mentions", 1)))
    found = ctx.high_reach(window_start, window_end, min_reach)
    if found < needed:
        return None
    severity = max(int(Severity.SEV1), int(rule.severity) - (1 if found >= 3 * needed else 0))
    return Breach(
        window_start=window_start,
        window_end=window_end,
        observed=found,
        expected=0.0,
        score=float(min_reach),
        severity=severity,
        detail={"min_reach": min_reach},
        keep=lambda m: m.sentiment_label == "negative" and (m.author_reach or 0) >= min_reach,
    )


def evaluate_crisis_terms(rule: Rule, ctx: Context, now: datetime) -> Breach | None:
    """At least ``params.min_hits`` (default ``min_count``) mentions carrying crisis terms in the window."""
    window_start, window_end, baseline_start, n_window, n_baseline = _windows(rule, now)
    hits = ctx.series.total("crisis_term_hits", window_start, window_end)
    base = int(_param(rule, "min_hits", rule.min_count))
    threshold = max(1, math.ceil(base * COUNT_FACTOR[_sensitivity(rule)]))
    if hits < threshold:
        return None
    baseline = ctx.series.total("crisis_term_hits", baseline_start, window_start)
    expected = max(baseline / n_baseline * n_window, 0.1)
    return Breach(
        window_start=window_start,
        window_end=window_end,
        observed=hits,
        expected=round(expected, 4),
        score=poisson_sf(int(hits), expected),
        severity=severity_for(rule, hits, expected, floor_count=threshold),
        detail={"threshold": threshold},
        keep=lambda mention: bool(mention.crisis_terms),
    )


Evaluator = Callable[[Rule, Context, datetime], "Breach | None"]
EVALUATORS: dict[str, Evaluator] = {
    RuleKind.VOLUME_SPIKE: evaluate_volume_spike,
    RuleKind.NEGATIVE_SPIKE: evaluate_negative_spike,
    RuleKind.HIGH_REACH_NEGATIVE: evaluate_high_reach_negative,
    RuleKind.CRISIS_TERMS: evaluate_crisis_terms,
}


def evaluate(rule: Rule, ctx: Context, now: datetime) -> Breach | None:
    """Run the rule's evaluator; an unknown kind never fires, nor does a relative rule while it is
    still learning its baseline (absolute rules fire from the start)."""
    evaluator = EVALUATORS.get(rule.kind)
    if evaluator is None or (ctx.honour_learning and is_learning(rule, ctx.watch_created_at, now)):
        return None
    return evaluator(rule, ctx, now)


def in_cooldown(rule: Rule, now: datetime) -> bool:
    return rule.last_fired_at is not None and now < rule.last_fired_at + timedelta(
        minutes=rule.cooldown_minutes
    )


def lookback(rules: Iterable[Rule]) -> timedelta:
    return (
        max(
            (timedelta(hours=r.baseline_hours, minutes=r.window_minutes) for r in rules),
            default=timedelta(hours=24),
        )
        + WIDTH
    )


class WindowMention(NamedTuple):
    """What a signal needs of a mention in its window: read as plain tuples, because a flood's
    window holds thousands of rows and building model instances for them dominated detection."""

    pk: int
    author: str
    author_reach: int
    text: str
    sentiment: float | None
    sentiment_label: str
    risk: float | None
    crisis_terms: list[str]
