"""Sending a nudge: how every app's ``nudges.py`` enqueues a Celery task.

Tasks are addressed by their registered names, so no module below ``tasks.py`` imports it (the tasks
call the services that call the nudges). A nudge is sent after the transaction that wrote its work
commits, and a nudge that cannot be sent (the broker is down, the network blips) is logged and left
to the beat sweepers: the work is in committed rows, so a lost nudge delays it and never loses it —
and a request whose data is committed never answers 500 because a message could not be sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from crisisdesk.celery import app

logger = logging.getLogger(__name__)


def enqueue_now(task_name: str, *args: Any, countdown: float | None = None) -> bool:
    """Send ``task_name(*args)`` now. False (and a warning in the log) when it could not be sent."""
    options: dict[str, Any] = {"countdown": countdown} if countdown else {}
    try:
        app.signature(task_name, args=args, **options).apply_async()
    except Exception:  # any broker or network fault: the committed rows keep the work (see above)
        logger.warning(
            "could not enqueue %s%r; the sweeper will send it again", task_name, args, exc_info=True
        )
        return False
    return True


def enqueue_after_commit(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Send ``task_name(*args)`` once the current transaction commits (at once outside one)."""

    def send_nudge() -> None:
        enqueue_now(task_name, *args, countdown=countdown)

    # A named function, not a partial: Django's on_commit machinery and its logs read __qualname__.
    send_nudge.__qualname__ = f"send_nudge[{task_name}]"
    transaction.on_commit(send_nudge)


def enqueue_each_after_commit(task_name: str, ids: Iterable[int]) -> None:
    """One ``task_name(id)`` nudge per id, each after the current transaction commits."""
    for item_id in ids:
        enqueue_after_commit(task_name, item_id)
