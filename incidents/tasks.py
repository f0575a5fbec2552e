"""Celery tasks for incidents. Thin and idempotent: they take ids and call services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from incidents.lifecycle import opening
from incidents.notifications import services as notification_services

# --- Escalation -------------------------------------------------------------------------------


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=1, retry_backoff_max=10, retry_jitter=True,
    max_retries=6, ignore_result=True,
)
def escalate_signal(signal_id: int) -> int | None:
    """Open or attach the signal's incident; a duplicate message finds the signal claimed and stops."""
    incident = opening.open_or_attach(signal_id=signal_id)
    return incident.pk if incident is not None else None


# --- Notifications ----------------------------------------------------------------------------


@shared_task(autoretry_for=(OperationalError,), retry_backoff=2, max_retries=5, ignore_result=True)
def deliver_notification(delivery_id: int) -> None:
    """Send one delivery if it is due and unclaimed; a duplicate nudge does nothing."""
    notification_services.delivery_send(delivery_id=delivery_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=2, max_retries=3, ignore_result=True)
def deliver_due_notifications() -> int:
    """Beat safety net: re-nudge pending deliveries whose time has come (a lost message, a retry
    whose countdown died with its worker, a claim whose worker was killed mid-send)."""
    due = notification_services.deliveries_due_ids()
    for delivery_id in due:
        deliver_notification.delay(delivery_id)
    return len(due)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=2, max_retries=3, ignore_result=True)
def escalate_unacknowledged() -> int:
    """Beat: raise incidents nobody acknowledged in time to the next notification tier."""
    escalated = 0
    for incident_id in notification_services.incidents_awaiting_acknowledgement_ids():
        if notification_services.incident_escalate_if_unacknowledged(incident_id=incident_id) is not None:
            escalated += 1
    return escalated
