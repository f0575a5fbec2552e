"""Detection's writes: a watch's rules judged now, each breach stored as one Signal.

A signal dedupes on ``(rule, window_start)`` through the database's unique constraint, and the
rule's cooldown is re-checked under a row lock on the rule, so two detectors racing produce one
signal. Escalation (``incidents``) is nudged by the task after commit.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record
from monitoring.detection.evaluators import Breach, Context, Series, evaluate, in_cooldown, lookback
from monitoring.detection.selectors import high_reach_lookup, series_load, window_mentions
from monitoring.detection.summary import summary_for
from monitoring.intake.buckets import WIDTH, bucket_start
from monitoring.models import Rule, Signal


def _signal_create(*, rule: Rule, breach: Breach, series: Series, now: datetime) -> Signal | None:
    """Store one signal unless the rule is cooling down or the window already has one."""
    with transaction.atomic():
        # The lock serialises detectors of the same rule: the cooldown check below is then exact.
        locked = Rule.objects.select_for_update().select_related("watch").get(pk=rule.pk)
        if in_cooldown(locked, now):
            return None
        mentions = window_mentions(locked.watch_id, breach)
        try:
            with transaction.atomic():
                signal = Signal.objects.create(
                    rule=locked,
                    watch_id=locked.watch_id,
                    detected_at=now,
                    **breach.figures(),
                    summary=summary_for(mentions=mentions, series=series, breach=breach, watch=locked.watch),
                )
        except IntegrityError:
            return None  # another detector stored this window first
        if mentions:
            signal.mentions.add(*(mention.pk for mention in mentions))
        Rule.objects.filter(pk=locked.pk).update(last_fired_at=now)
        rule.last_fired_at = now
        audit_record(
            actor=None,
            action="signal.detected",
            target=signal,
            after={
                "rule": locked.pk,
                "kind": locked.kind,
                "window_start": breach.window_start.isoformat(),
                "observed": breach.observed,
                "expected": breach.expected,
                "severity": breach.severity,
            },
        )
        return signal


def detect_for_watch(*, watch_id: int, now: datetime | None = None) -> list[Signal]:
    """Evaluate every active rule of the watch as of ``now``; return the signals created now."""
    now = now or timezone.now()
    rules = [
        r
        for r in Rule.objects.filter(watch_id=watch_id, is_active=True).select_related("watch")
        if not in_cooldown(r, now)
    ]
    if not rules:
        return []
    end = bucket_start(now) + WIDTH
    series = series_load(watch_id=watch_id, start=end - lookback(rules), end=end)
    ctx = Context(
        series=series, high_reach=high_reach_lookup(watch_id), watch_created_at=rules[0].watch.created_at
    )
    created: list[Signal] = []
    for rule in rules:
        breach = evaluate(rule, ctx, now)
        if breach is None:
            continue
        signal = _signal_create(rule=rule, breach=breach, series=series, now=now)
        if signal is not None:
            created.append(signal)
    return created
