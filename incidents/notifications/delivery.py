"""Delivery: sending one notification with retries and backoff, the sweeper's view of what is due,
and a manager's manual retry.

A send claims its row with a conditional UPDATE, so two workers (or a retry and the beat sweeper)
never send the same row at once; only the holder of the claim records the outcome.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crisisdesk.audit.services import audit_record, snapshot
from crisisdesk.roles import MANAGE_NOTIFICATIONS
from crisisdesk.types import Member
from incidents import nudges
from incidents.models import DeliveryStatus, NotificationDelivery
from incidents.notifications.channels import DeliveryError, PermanentError, get_channel

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between the six attempts
BACKOFF_MAX_SECONDS = 3600
# How long a claimed row is left alone: longer than the slowest send (HTTP timeout 15 s, SMTP),
# short enough that the sweeper resends soon after a worker died mid-send.
CLAIM_LEASE_SECONDS = 120


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: the receiver's ``Retry-After`` if it gave one, otherwise
    exponential from ``BACKOFF_BASE_SECONDS``."""
    if retry_after is not None:
        return max(1.0, min(retry_after, BACKOFF_MAX_SECONDS))
    return float(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def delivery_claim(*, delivery_id: int, now: datetime | None = None) -> NotificationDelivery | None:
    """Claim a due pending delivery for one send (conditional UPDATE), or None if someone else
    has it, it is not due yet, or it is finished. The claim counts the attempt and leases the row."""
    now = now or timezone.now()
    claimed = NotificationDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=CLAIM_LEASE_SECONDS))
    if not claimed:
        return None
    return NotificationDelivery.objects.select_related("channel").get(pk=delivery_id)


def delivery_send(*, delivery_id: int) -> NotificationDelivery | None:
    """Claim and send one delivery, recording the outcome.

    Success marks it sent. A temporary failure schedules the next attempt with backoff (and nudges a
    task for then) until ``MAX_ATTEMPTS``; a permanent one, or a deactivated channel, fails it at once.
    Returns the updated row, or None when there was nothing to do.
    """
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    channel = delivery.channel
    error: DeliveryError | None = None
    if not channel.is_active:
        error = PermanentError("The channel was deactivated before this message was sent.")
    else:
        try:
            get_channel(channel.kind).send(channel=channel, payload=delivery.payload, delivery_id=delivery.pk)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a plug-in bug must not leave the row leased and silent
            logger.exception("notification channel %s crashed", channel.pk)
            error = PermanentError(f"Internal error while sending: {type(exc).__name__}.")
    return _delivery_record_outcome(delivery=delivery, error=error)


@transaction.atomic
def _delivery_record_outcome(
    *, delivery: NotificationDelivery, error: DeliveryError | None
) -> NotificationDelivery:
    now = timezone.now()
    fields: dict[str, Any]
    if error is None:
        fields = {"status": DeliveryStatus.SENT, "sent_at": now, "last_error": ""}
    elif error.permanent or delivery.attempts >= MAX_ATTEMPTS:
        suffix = "" if error.permanent else f" (gave up after {delivery.attempts} attempts)"
        fields = {"status": DeliveryStatus.FAILED, "last_error": f"{error}{suffix}"[:2000]}
    else:
        delay = backoff_seconds(delivery.attempts, error.retry_after)
        fields = {"next_attempt_at": now + timedelta(seconds=delay), "last_error": str(error)[:2000]}
        nudges.deliver_notification(delivery.pk, countdown=delay)
    # Only the holder of the claim writes the outcome: same attempt count, still pending.
    NotificationDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delivery


def deliveries_due_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (including ones whose claim lease ran out)."""
    now = now or timezone.now()
    return list(
        NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


@transaction.atomic
def delivery_retry(*, delivery: NotificationDelivery, by: Member) -> NotificationDelivery:
    """A manager sends a failed delivery again (e.g. after fixing the channel's URL)."""
    if not (getattr(by, "is_active", False) and by.has_perm(MANAGE_NOTIFICATIONS)):
        raise PermissionDenied("Your role may not retry notifications.")
    before = snapshot(delivery, ["status", "attempts", "last_error"])
    updated = NotificationDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    delivery.refresh_from_db()
    if updated:
        audit_record(
            actor=by,
            action="notification_delivery.retry",
            target=delivery,
            before=before,
            after=snapshot(delivery, ["status", "attempts", "last_error"]),
        )
        nudges.deliver_notification(delivery.pk)
    return delivery
