"""Celery tasks for monitoring. Thin and idempotent: they take ids (or nothing) and call services.

The database is the source of truth; a message only nudges. Every task may run twice or not at
all: ``sweep`` re-nudges what a lost message left behind (new mentions, unprocessed signals,
overdue sources, watches with fresh buckets), so work is delayed, never lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from celery import shared_task
from celery.signals import worker_init
from django.db import OperationalError, transaction
from django.utils import timezone

from monitoring import scoring
from monitoring.detection import services as detection
from monitoring.intake import polling
from monitoring.models import Bucket, Mention, MentionState, Signal
from monitoring.scoring import rescore

logger = logging.getLogger(__name__)

# SQLite answers "database is locked" under contention: retry soon, a few times.
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 1, "retry_backoff_max": 10,
         "retry_jitter": True, "max_retries": 6, "ignore_result": True}
SCORE_BATCHES_PER_RUN = 4
STALE_AFTER = timedelta(seconds=30)
SWEEP_LIMIT = 200


@worker_init.connect
def _warm_up_scoring(**kwargs: object) -> None:
    """Load scoring's models when a worker starts (prefork children inherit them), not on the
    first mention of a crisis."""
    scoring.warm_up()


@shared_task(**RETRY)
def poll_due_sources() -> int:
    """Beat (10 s): one ``poll_source`` message per due source. The poll itself claims a lease."""
    ids = polling.due_source_ids()
    for source_id in ids:
        poll_source.delay(source_id)
    return len(ids)


@shared_task(**RETRY)
def poll_source(source_id: int) -> str:
    """Poll one source; a duplicate message finds the lease taken or the source not due and skips."""
    return polling.poll_source(source_id=source_id).status


@shared_task(**RETRY)
def check_source_heartbeats() -> int:
    """Beat (1 min): mark sources that went quiet as silent, so a dead feed never looks calm."""
    return len(polling.check_heartbeats())


@shared_task(**RETRY)
def score_new_mentions() -> int:
    """Score a few batches of new mentions, then nudge detection for the watches touched.

    Re-enqueues itself when the last batch was full, so a flood is worked through in bounded
    slices instead of one task that holds a worker for minutes.
    """
    touched: set[int] = set()
    scored_all = False
    for _ in range(SCORE_BATCHES_PER_RUN):
        watch_ids = rescore.score_new_mentions(limit=rescore.DEFAULT_BATCH)
        if not watch_ids:
            scored_all = True
            break
        touched.update(watch_ids)
    for watch_id in sorted(touched):
        transaction.on_commit(partial(detect_watch.delay, watch_id))
    if not scored_all and Mention.objects.filter(state=MentionState.NEW).exists():
        transaction.on_commit(score_new_mentions.delay)
    return len(touched)


@shared_task(**RETRY)
def detect_watch(watch_id: int) -> int:
    """Evaluate the watch's rules now; each new signal is escalated after commit."""
    signals = detection.detect_for_watch(watch_id=watch_id)
    if signals:
        from incidents.tasks import escalate_signal  # incidents depends on monitoring, not back

        for signal in signals:
            transaction.on_commit(partial(escalate_signal.delay, signal.pk))
    return len(signals)


@shared_task(**RETRY)
def sweep() -> dict[str, int]:
    """Beat (30 s): re-nudge work whose message was lost. Safe to run any time: everything is claimed."""
    now = timezone.now()
    stale = now - STALE_AFTER
    nudged = {"score": 0, "escalate": 0, "poll": 0, "detect": 0}

    if Mention.objects.filter(state=MentionState.NEW, fetched_at__lt=stale).exists():
        transaction.on_commit(score_new_mentions.delay)
        nudged["score"] = 1

    signal_ids = list(
        Signal.objects.filter(processed_at__isnull=True, detected_at__lt=stale)
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_LIMIT]
    )
    if signal_ids:
        from incidents.tasks import escalate_signal

        for signal_id in signal_ids:
            transaction.on_commit(partial(escalate_signal.delay, signal_id))
        nudged["escalate"] = len(signal_ids)

    # Sources whose poll message never arrived (due for a while and not leased).
    overdue = polling.due_source_ids(now=now - STALE_AFTER, limit=SWEEP_LIMIT)
    for source_id in overdue:
        transaction.on_commit(partial(poll_source.delay, source_id))
    nudged["poll"] = len(overdue)

    # Watches that got new counts recently: a lost detect message must not hide a breach.
    recent = now - timedelta(minutes=10)
    watch_ids = list(
        Bucket.objects.filter(start__gte=recent).values_list("watch_id", flat=True).distinct().order_by("watch_id")
    )
    for watch_id in watch_ids[:SWEEP_LIMIT]:
        transaction.on_commit(partial(detect_watch.delay, watch_id))
    nudged["detect"] = len(watch_ids)
    if any(nudged.values()):
        logger.info("sweep nudged %s", nudged)
    return nudged


@shared_task(**RETRY)
def import_upload(upload_id: str) -> str:
    """Import a stored CSV/JSON upload (monitoring.intake.imports.services.import_upload_store), reporting progress.

    Idempotent: a finished upload is left alone, and a re-run stores nothing twice (ingest dedupes).
    """
    from monitoring.intake.imports.services import (
        import_upload_run,  # services import tasks lazily; keep it symmetric
    )

    status = import_upload_run(upload_id=upload_id)
    return status["state"] if status else "missing"
