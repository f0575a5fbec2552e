"""The one module that enqueues the incidents app's Celery tasks, always after the current
transaction commits (at once outside one): a message about a row that rolled back is never sent.

Tasks are addressed by their registered names, so this module imports nothing from ``tasks.py``:
the tasks call the services that call these nudges, and the names are already the stable contract
that queued messages, the beat schedule and the task routes rely on. A nudge the broker refuses is
logged and left to the ``deliver_due_notifications`` sweeper (``crisisdesk.nudging``).
"""

from __future__ import annotations

from crisisdesk.nudging import enqueue_after_commit

DELIVER_NOTIFICATION = "incidents.tasks.deliver_notification"


def deliver_notification(delivery_id: int, *, countdown: float | None = None) -> None:
    """Nudge a send of delivery ``delivery_id`` after commit, ``countdown`` seconds later if given."""
    enqueue_after_commit(DELIVER_NOTIFICATION, delivery_id, countdown=countdown)
