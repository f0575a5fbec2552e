"""Celery tasks of the incidents app. Thin and idempotent: they take ids and call services.

Task names are a contract (queued messages, the beat schedule in ``schedule.py`` and the task routes
in settings use them): keep them when a function moves. ``incidents.nudges`` enqueues them.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from crisisdesk.retry import DELIVERY, MAINTENANCE, PIPELINE
from incidents import nudges
from incidents.lifecycle import opening
from incidents.notifications import delivery, escalation
from incidents.publishing import selectors as publishing_selectors
from incidents.publishing import services as publishing_services


@shared_task(**PIPELINE)
def escalate_signal(signal_id: int) -> int | None:
    """Open or attach the signal's incident (``lifecycle.opening``); a duplicate message finds the
    signal claimed and stops. The name predates "opening" and stays, with its ``escalate_*`` route."""
    incident = opening.open_or_attach(signal_id=signal_id)
    return incident.pk if incident is not None else None


@shared_task(**DELIVERY)
def deliver_notification(delivery_id: int) -> None:
    """Send one delivery if it is due and unclaimed; a duplicate nudge does nothing."""
    delivery.delivery_send(delivery_id=delivery_id)


@shared_task(**MAINTENANCE)
def deliver_due_notifications() -> int:
    """Beat safety net: re-nudge pending deliveries whose time has come (a lost message, a retry
    whose countdown died with its worker, a claim whose worker was killed mid-send)."""
    due = delivery.deliveries_due_ids()
    for delivery_id in due:
        nudges.deliver_notification(delivery_id)
    return len(due)


@shared_task(**MAINTENANCE)
def escalate_unacknowledged() -> int:
    """Beat: raise incidents nobody acknowledged in time to the next notification tier."""
    escalated = 0
    for incident_id in escalation.incidents_awaiting_acknowledgement_ids():
        if escalation.incident_escalate_if_unacknowledged(incident_id=incident_id) is not None:
            escalated += 1
    return escalated


@shared_task(**MAINTENANCE)
def remind_overdue_updates() -> int:
    """Beat: remind the team of each open incident whose promised public update is overdue (once
    per promise; the service claims it)."""
    reminded = 0
    for incident_id in publishing_selectors.overdue_update_incident_ids(now=timezone.now()):
        if publishing_services.incident_remind_overdue_update(incident_id=incident_id):
            reminded += 1
    return reminded
