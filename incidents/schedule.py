"""Periodic tasks of the incidents app; crisisdesk/celery.py merges ``BEAT`` into the schedule."""

from __future__ import annotations

BEAT: dict[str, dict] = {
    # Notifications: resend due deliveries (lost-message safety) and escalate unacknowledged incidents.
    "deliver-due-notifications": {"task": "incidents.tasks.deliver_due_notifications", "schedule": 30.0},
    "escalate-unacknowledged": {"task": "incidents.tasks.escalate_unacknowledged", "schedule": 60.0},
    # A promised public update whose time passed: remind the team once per promise.
    "remind-overdue-updates": {"task": "incidents.tasks.remind_overdue_updates", "schedule": 60.0},
}
