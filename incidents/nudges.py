"""The one module that enqueues the incidents app's Celery tasks, always after the current
transaction commits (at once outside one): a message about a row that rolled back is never sent.

Tasks are addressed by their registered names, so this module imports nothing from ``tasks.py``:
the tasks call the services that call these nudges, and the names are already the stable contract
that queued messages, the beat schedule and the task routes rely on.
"""

from __future__ import annotations

from django.db import transaction

from crisisdesk.celery import app

DELIVER_NOTIFICATION = "incidents.tasks.deliver_notification"


def deliver_notification(delivery_id: int, *, countdown: float | None = None) -> None:
    """Nudge a send of delivery ``delivery_id`` after commit, ``countdown`` seconds later if given."""
    options = {"countdown": countdown} if countdown else {}
    transaction.on_commit(app.signature(DELIVER_NOTIFICATION, args=(delivery_id,), **options).apply_async)
