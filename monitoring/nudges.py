"""Nudges: the one module that enqueues monitoring's tasks (and hands new signals to incidents).

A message only nudges: the database is the source of truth, so every nudge is sent after the
transaction that wrote the work commits, never before: a worker must find the rows it is told
about. A lost nudge delays work, and the sweeper sends it again (``crisisdesk.nudging``).

Tasks are addressed by their registered names: nothing here imports ``monitoring.tasks`` (whose
tasks call the services that call these nudges) or ``incidents`` (which builds on monitoring).
"""

from __future__ import annotations

from collections.abc import Iterable

from crisisdesk.nudging import enqueue_after_commit, enqueue_each_after_commit, enqueue_now

POLL_SOURCE = "monitoring.tasks.poll_source"
SCORE_NEW_MENTIONS = "monitoring.tasks.score_new_mentions"
DETECT_WATCH = "monitoring.tasks.detect_watch"
IMPORT_UPLOAD = "monitoring.tasks.import_upload"
ESCALATE_SIGNAL = "incidents.tasks.escalate_signal"
TASK_NAMES = (POLL_SOURCE, SCORE_NEW_MENTIONS, DETECT_WATCH, IMPORT_UPLOAD, ESCALATE_SIGNAL)


def poll_source(source_id: int) -> None:
    """Poll ``source_id`` once the current transaction commits (the poll claims its own lease)."""
    enqueue_after_commit(POLL_SOURCE, source_id)


def poll_sources(source_ids: Iterable[int]) -> None:
    """One poll message per source, sent now: beat's fan-out holds no transaction to wait for, and
    each poll re-checks that its source is due."""
    for source_id in source_ids:
        enqueue_now(POLL_SOURCE, source_id)


def score_new_mentions() -> None:
    """Score the mentions left ``new`` once the current transaction commits."""
    enqueue_after_commit(SCORE_NEW_MENTIONS)


def detect_watches(watch_ids: Iterable[int]) -> None:
    """Evaluate each watch's rules once the current transaction commits."""
    enqueue_each_after_commit(DETECT_WATCH, watch_ids)


def escalate_signals(signal_ids: Iterable[int]) -> None:
    """Hand each new signal to incidents' escalation once the current transaction commits."""
    enqueue_each_after_commit(ESCALATE_SIGNAL, signal_ids)


def import_upload(upload_id: str) -> None:
    """Import a stored upload once the current transaction commits."""
    enqueue_after_commit(IMPORT_UPLOAD, upload_id)


def after_ingest(*, watch_id: int | None, score: bool) -> None:
    """After an ingest commits: detection for ``watch_id`` (it got scored mentions) and, if ``score``,
    the scoring stage for what was stored unscored. The mentions are committed either way: a broker
    that refuses the message never turns a stored batch into an error for its sender."""
    if watch_id is not None:
        enqueue_after_commit(DETECT_WATCH, watch_id)
    if score:
        enqueue_after_commit(SCORE_NEW_MENTIONS)
