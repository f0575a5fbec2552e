"""Backtest: "over the last N days this rule would have fired at …", from stored buckets.

It replays the rule's own evaluator (``monitoring.detection.evaluators.EVALUATORS``) at the end of every
5-minute bucket, honours the cooldown, and writes nothing — safe to run on a rule being edited.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.detection.evaluators import BreachFigures, Context, HighReachLookup, evaluate, lookback
from monitoring.detection.selectors import series_load
from monitoring.intake.buckets import WIDTH, bucket_start
from monitoring.models import Mention, MentionState, Rule, RuleKind

MAX_DAYS = 31


@dataclass(kw_only=True)
class BacktestHit(BreachFigures):
    at: datetime  # when the rule would have fired (end of the bucket evaluated)


def _high_reach_preloaded(rule: Rule, start: datetime, end: datetime) -> HighReachLookup:
    """One query for the whole range instead of one per evaluated bucket."""
    rows = sorted(
        Mention.objects.filter(
            watch_id=rule.watch_id,
            state=MentionState.SCORED,
            is_own=False,
            sentiment_label="negative",
            published_at__gte=start,
            published_at__lt=end,
        )
        .exclude(author_reach=0)
        .values_list("published_at", "author_reach")
    )
    times = [t for t, _ in rows]

    def lookup(window_start: datetime, window_end: datetime, min_reach: int) -> int:
        lo = bisect.bisect_left(times, window_start)
        hi = bisect.bisect_left(times, window_end)
        return sum(1 for _, reach in rows[lo:hi] if reach >= min_reach)

    return lookup


def backtest_rule(*, rule: Rule, days: int, now: datetime | None = None) -> list[BacktestHit]:
    """Where ``rule`` (saved or being edited, unsaved) would have fired over the last ``days`` days."""
    days = max(1, min(int(days), MAX_DAYS))
    now = now or timezone.now()
    first = bucket_start(now - timedelta(days=days))
    end = bucket_start(now) + WIDTH
    load_start = first - lookback([rule])
    series = series_load(watch_id=rule.watch_id, start=load_start, end=end)
    ctx = Context(series=series, honour_learning=False)
    if rule.kind == RuleKind.HIGH_REACH_NEGATIVE:
        ctx.high_reach = _high_reach_preloaded(rule, first, end)
    hits: list[BacktestHit] = []
    cooldown = timedelta(minutes=rule.cooldown_minutes)
    last: datetime | None = None
    moment = first
    while moment < end:
        # As of the end of the bucket (or now, for the bucket still filling).
        at = min(moment + WIDTH - timedelta(microseconds=1), now)
        if last is None or at >= last + cooldown:
            breach = evaluate(rule, ctx, at)
            if breach is not None:
                last = at
                hits.append(BacktestHit(at=at, **breach.figures()))
        moment += WIDTH
    return hits
