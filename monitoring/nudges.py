"""Nudges: the one module that enqueues monitoring's tasks (and hands new signals to incidents).

A message only nudges: the database is the source of truth, so every nudge is sent after the
transaction that wrote the work commits (``transaction.on_commit``), never before: a worker must
find the rows it is told about. A lost nudge delays work, and the sweeper sends it again.

Services, the tasks themselves and the stages below them call these functions; none of them
imports ``monitoring.tasks``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from types import ModuleType

from celery import Task
from django.db import transaction


def _tasks() -> ModuleType:
    # Imported when a nudge is sent, not when this module loads: monitoring.tasks imports the
    # services that call these nudges, and this keeps the import graph one-way (tasks → services →
    # nudges).
    from monitoring import tasks

    return tasks


def _escalate_signal() -> Task:
    # incidents builds on monitoring (it imports monitoring's models): monitoring reaches its task
    # only when a signal is handed over, so loading monitoring never loads incidents' task graph.
    from incidents.tasks import escalate_signal

    return escalate_signal


def poll_source(source_id: int) -> None:
    """Poll ``source_id`` once the current transaction commits (the poll claims its own lease)."""
    transaction.on_commit(partial(_tasks().poll_source.delay, source_id))


def poll_sources(source_ids: Iterable[int]) -> None:
    """One poll message per source, sent now: beat's fan-out holds no transaction to wait for, and
    each poll re-checks that its source is due."""
    poll = _tasks().poll_source
    for source_id in source_ids:
        poll.delay(source_id)


def score_new_mentions() -> None:
    """Score the mentions left ``new`` once the current transaction commits."""
    transaction.on_commit(partial(_tasks().score_new_mentions.delay))


def detect_watches(watch_ids: Iterable[int]) -> None:
    """Evaluate each watch's rules once the current transaction commits."""
    detect = _tasks().detect_watch
    for watch_id in watch_ids:
        transaction.on_commit(partial(detect.delay, watch_id))


def escalate_signals(signal_ids: Iterable[int]) -> None:
    """Hand each new signal to incidents' escalation once the current transaction commits."""
    escalate = _escalate_signal()
    for signal_id in signal_ids:
        transaction.on_commit(partial(escalate.delay, signal_id))


def import_upload(upload_id: str) -> None:
    """Import a stored upload once the current transaction commits."""
    transaction.on_commit(partial(_tasks().import_upload.delay, upload_id))


def after_ingest(*, watch_id: int | None, score: bool) -> None:
    """After an ingest commits: detection for ``watch_id`` (it got scored mentions) and, if ``score``,
    the scoring stage for what was stored unscored.

    ``robust``: the mentions are committed; a broker that refuses the message must not turn a
    stored batch into an error for its sender (the sweeper re-nudges both stages).
    """
    transaction.on_commit(partial(_after_ingest, watch_id, score), robust=True)


def _after_ingest(watch_id: int | None, score: bool) -> None:
    tasks = _tasks()
    if watch_id is not None:
        tasks.detect_watch.delay(watch_id)
    if score:
        tasks.score_new_mentions.delay()
