"""Backtest: "over the last N days this rule would have fired at …", from stored buckets.

It replays the rule's own evaluator (``monitoring.detection.evaluators.EVALUATORS``) at the end of every
5-minute bucket, honours the cooldown, and writes nothing — safe to run on a rule being edited.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from incidents.models import Incident
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


@dataclass(frozen=True)
class BacktestRate:
    """How often the rule would have fired outside incidents: the evidence to tune sensitivity by."""

    days: int
    fired: int
    outside_incidents: int
    per_week: float

    @property
    def sentence(self) -> str:
        """ "about 2 alerts a week", in the largest unit that keeps the figure at least one."""
        if self.outside_incidents == 0:
            return gettext("no alerts outside incidents")
        per_day = self.per_week / 7
        if per_day >= 1:
            n = round(per_day)
            return ngettext("about %(n)d alert a day", "about %(n)d alerts a day", n) % {"n": n}
        if self.per_week >= 1:
            n = round(self.per_week)
            return ngettext("about %(n)d alert a week", "about %(n)d alerts a week", n) % {"n": n}
        n = max(1, round(self.per_week * 30 / 7))
        return ngettext("about %(n)d alert a month", "about %(n)d alerts a month", n) % {"n": n}


def incident_periods(*, watch_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The watch's incidents overlapping ``[start, end)`` as ``(from, to)``: from its first signal
    (or detection) to its resolution, or to ``end`` while it is open."""
    rows = (
        Incident.objects.filter(watch_id=watch_id)
        .annotate(began=Coalesce(F("first_signal_at"), F("detected_at")))
        .filter(began__lt=end)
        .exclude(resolved_at__lt=start)
        .values_list("began", "resolved_at")
    )
    return [(began, resolved or end) for began, resolved in rows]


def backtest_rate(
    *, rule: Rule, hits: list[BacktestHit], days: int, now: datetime | None = None
) -> BacktestRate:
    """Count the ``hits`` of a backtest over ``days`` that fell outside the watch's incidents (an
    alert during an incident is the rule doing its job) and scale them to a week. One query."""
    days = max(1, min(int(days), MAX_DAYS))
    now = now or timezone.now()
    periods = incident_periods(watch_id=rule.watch_id, start=now - timedelta(days=days), end=now + WIDTH)
    outside = sum(1 for hit in hits if not any(began <= hit.at < to for began, to in periods))
    return BacktestRate(days=days, fired=len(hits), outside_incidents=outside, per_week=outside * 7 / days)
