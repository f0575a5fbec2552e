"""Celery tasks for monitoring. Thin and idempotent: they take ids (or nothing) and call services.

The database is the source of truth; a message only nudges (``monitoring.nudges`` sends them all).
Every task may run twice or not at all: ``sweep`` re-nudges what a lost message left behind (new
mentions, unprocessed signals, overdue sources, watches with fresh buckets, stuck imports), so work is delayed,
never lost. Retry policies come from ``crisisdesk.retry``: PIPELINE for the path from a mention to
a signal (polls, imports, scoring, detection), MAINTENANCE for beat's housekeeping.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_init
from django.utils import timezone

from crisisdesk.retry import MAINTENANCE, PIPELINE
from monitoring import nudges, scoring
from monitoring.detection import selectors as detection_selectors
from monitoring.detection import services as detection
from monitoring.intake import polling
from monitoring.intake.imports import services as imports
from monitoring.scoring import rescore

logger = logging.getLogger(__name__)

SCORE_BATCHES_PER_RUN = 4
STALE_AFTER = timedelta(seconds=30)
# A watch whose buckets changed this recently may hold a breach nobody evaluated yet.
FRESH_COUNTS = timedelta(minutes=10)
SWEEP_LIMIT = 200


@worker_init.connect
def _warm_up_scoring(**kwargs: object) -> None:
    """Load scoring's models when a worker starts (prefork children inherit them), not on the
    first mention of a crisis."""
    scoring.warm_up()


@shared_task(**PIPELINE)
def poll_due_sources() -> int:
    """Beat (10 s): one ``poll_source`` message per due source. The poll itself claims a lease."""
    ids = polling.due_source_ids()
    nudges.poll_sources(ids)
    return len(ids)


@shared_task(**PIPELINE)
def poll_source(source_id: int) -> str:
    """Poll one source; a duplicate message finds the lease taken or the source not due and skips."""
    return polling.poll_source(source_id=source_id).status


@shared_task(**MAINTENANCE)
def check_source_heartbeats() -> int:
    """Beat (1 min): mark sources that went quiet as silent, so a dead feed never looks calm."""
    return len(polling.check_heartbeats())


@shared_task(**PIPELINE)
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
    nudges.detect_watches(sorted(touched))
    if not scored_all and rescore.new_mentions_waiting():
        nudges.score_new_mentions()
    return len(touched)


@shared_task(**PIPELINE)
def detect_watch(watch_id: int) -> int:
    """Evaluate the watch's rules now; each new signal is escalated after commit."""
    signals = detection.detect_for_watch(watch_id=watch_id)
    nudges.escalate_signals(signal.pk for signal in signals)
    return len(signals)


@shared_task(**MAINTENANCE)
def sweep() -> dict[str, int]:
    """Beat (30 s): re-nudge work whose message was lost. Safe to run any time: everything is claimed."""
    now = timezone.now()
    stale = now - STALE_AFTER
    nudged = {"score": 0, "escalate": 0, "poll": 0, "detect": 0, "import": 0, "import_failed": 0}

    if rescore.new_mentions_waiting(before=stale):
        nudges.score_new_mentions()
        nudged["score"] = 1

    signal_ids = detection_selectors.unescalated_signal_ids(before=stale, limit=SWEEP_LIMIT)
    nudges.escalate_signals(signal_ids)
    nudged["escalate"] = len(signal_ids)

    # Sources whose poll message never arrived (due for a while and not leased).
    overdue = polling.due_source_ids(now=stale, limit=SWEEP_LIMIT)
    for source_id in overdue:
        nudges.poll_source(source_id)
    nudged["poll"] = len(overdue)

    # Watches that got new counts recently: a lost detect message must not hide a breach.
    watch_ids = detection_selectors.watches_counted_since(since=now - FRESH_COUNTS)
    nudges.detect_watches(watch_ids[:SWEEP_LIMIT])
    nudged["detect"] = len(watch_ids)

    # Imports whose message was lost or whose worker died: sent again, or failed after a few tries.
    stuck_imports = imports.import_uploads_sweep(now=now)
    nudged["import"] = len(stuck_imports.requeued)
    nudged["import_failed"] = len(stuck_imports.failed)
    if any(nudged.values()):
        logger.info("sweep nudged %s", nudged)
    return nudged


@shared_task(**PIPELINE)
def import_upload(upload_id: str) -> str:
    """Import a stored CSV/JSON upload (``monitoring.intake.imports.services``), reporting progress.

    Idempotent: a finished upload is left alone, and a re-run stores nothing twice (ingest dedupes).
    """
    status = imports.import_upload_run(upload_id=upload_id)
    return status["state"] if status else "missing"
