"""Notification writes: routing incident events to channels, sending deliveries with retries,
escalating unacknowledged incidents to the next tier, and managing channels.

The database is the source of truth: a ``NotificationDelivery`` row exists (unique per channel,
incident and event) before any message is sent; Celery only nudges. A send claims its row with a
conditional UPDATE, so two workers (or a retry and the beat sweeper) never send the same row at once.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crisisdesk.audit import audit_record, snapshot
from incidents.lifecycle.timeline import timeline_add
from incidents.models import (
    DeliveryStatus,
    Incident,
    NotificationChannel,
    NotificationDelivery,
    Status,
    TimelineEvent,
)
from incidents.notifications.channels import (
    DEFAULT_ESCALATE_AFTER_MINUTES,
    DeliveryError,
    PermanentError,
    get_channel,
)
from incidents.signals import incident_event
from monitoring.models import Severity

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between the six attempts
BACKOFF_MAX_SECONDS = 3600
# How long a claimed row is left alone: longer than the slowest send (HTTP timeout 15 s, SMTP),
# short enough that the sweeper resends soon after a worker died mid-send.
CLAIM_LEASE_SECONDS = 120

EVENT_LABELS = {
    "opened": "Incident opened",
    "resolved": "Incident resolved",
    "test": "Test notification",
}

CHANNEL_AUDIT_FIELDS = ["name", "kind", "config", "min_severity", "tier", "is_active"]


def event_key(event: str) -> str | None:
    """The delivery key for an ``incident_event`` worth telling, or None for events we keep quiet.

    opened → ``opened``; severity:<n> → ``severity-<n>``; escalated:<tier> → ``escalated-tier-<tier>``;
    status:resolved → ``resolved``. Acknowledgements and other transitions are not broadcast.
    """
    if event == "opened":
        return "opened"
    if event in ("status:resolved", "resolved"):
        return "resolved"
    name, _, value = event.partition(":")
    if name == "severity" and value.isdigit():
        return f"severity-{int(value)}"
    if name == "escalated" and value.isdigit():
        return f"escalated-tier-{int(value)}"
    return None


def event_label(key: str) -> str:
    if key in EVENT_LABELS:
        return EVENT_LABELS[key]
    if key.startswith("severity-"):
        return f"Severity raised to SEV{key.removeprefix('severity-')}"
    if key.startswith("escalated-tier-"):
        return f"Not acknowledged: escalated to tier {key.removeprefix('escalated-tier-')}"
    return key


def incident_url(incident: Incident) -> str:
    """The absolute link to the incident page, from ``settings.SITE_URL``."""
    try:
        path = reverse("incidents:detail", args=[incident.pk])
    except NoReverseMatch:
        path = f"/incidents/{incident.pk}/"
    return settings.SITE_URL.rstrip("/") + path


def build_payload(*, incident: Incident, key: str) -> dict[str, Any]:
    """What a message says, frozen when the delivery is created so every retry says the same."""
    return {
        "event": key,
        "event_label": event_label(key),
        "incident": {
            "id": incident.pk,
            "title": incident.title,
            "severity": int(incident.severity),
            "severity_label": Severity(incident.severity).label,
            "status": incident.status,
            "status_label": Status(incident.status).label,
            "watch": incident.watch.name,
            "escalation_tier": incident.escalation_tier,
            "detected_at": incident.detected_at.isoformat(),
            "url": incident_url(incident),
        },
        "created_at": timezone.now().isoformat(),
    }


def channels_for(*, incident: Incident, max_tier: int | None = None) -> list[NotificationChannel]:
    """Active channels that route this incident: severity at least their minimum (SEV1 is the worst,
    so ``severity <= min_severity``), its watch among theirs (none = all), tier within reach."""
    tier = incident.escalation_tier if max_tier is None else max_tier
    return list(
        NotificationChannel.objects.filter(
            is_active=True, min_severity__gte=incident.severity, tier__lte=tier
        )
        .filter(Q(watches__isnull=True) | Q(watches=incident.watch_id))
        .distinct()
        .order_by("tier", "name")
    )


def _severity_already_told(channel_ids: list[int], incident: Incident) -> dict[int, int]:
    """Per channel, the worst severity it has been told about for this incident."""
    told: dict[int, int] = {}
    rows = NotificationDelivery.objects.filter(incident=incident, channel_id__in=channel_ids).values_list(
        "channel_id", "payload"
    )
    for channel_id, payload in rows:
        severity = (payload or {}).get("incident", {}).get("severity")
        if isinstance(severity, int):
            told[channel_id] = min(told.get(channel_id, severity), severity)
    return told


@transaction.atomic
def notify_incident_event(*, incident: Incident, event: str) -> list[NotificationDelivery]:
    """Create the deliveries an incident event calls for, and send them once the transaction commits.

    Call inside the transaction that changed the incident (the ``incident_event`` receiver does).
    A repeated event creates nothing new: (channel, incident, event) is unique in the database. A
    severity change is told only to channels that have not yet heard of this severity or worse,
    so lowering the severity stays quiet.
    """
    key = event_key(event)
    if key is None:
        return []
    channels = channels_for(incident=incident)
    if key.startswith("severity-"):
        told = _severity_already_told([c.pk for c in channels], incident)
        channels = [c for c in channels if c.pk not in told or incident.severity < told[c.pk]]
    if not channels:
        return []
    payload = build_payload(incident=incident, key=key)
    now = timezone.now()
    NotificationDelivery.objects.bulk_create(
        [
            NotificationDelivery(channel=c, incident=incident, event=key, payload=payload, next_attempt_at=now)
            for c in channels
        ],
        ignore_conflicts=True,
    )
    # Re-read: ignore_conflicts gives no ids, and only rows still pending need a nudge.
    deliveries = list(
        NotificationDelivery.objects.filter(
            incident=incident, event=key, channel__in=channels, status=DeliveryStatus.PENDING, attempts=0
        )
    )
    for delivery in deliveries:
        _enqueue_on_commit(delivery.pk)
    return deliveries


def _enqueue_on_commit(delivery_id: int, countdown: float | None = None) -> None:
    from incidents.tasks import deliver_notification  # tasks import services: import late

    if countdown:
        transaction.on_commit(partial(deliver_notification.apply_async, (delivery_id,), countdown=countdown))
    else:
        transaction.on_commit(partial(deliver_notification.delay, delivery_id))


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
def _delivery_record_outcome(*, delivery: NotificationDelivery, error: DeliveryError | None) -> NotificationDelivery:
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
        _enqueue_on_commit(delivery.pk, countdown=delay)
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
def delivery_retry(*, delivery: NotificationDelivery, by: Any) -> NotificationDelivery:
    """A manager sends a failed delivery again (e.g. after fixing the channel's URL)."""
    before = snapshot(delivery, ["status", "attempts", "last_error"])
    updated = NotificationDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    delivery.refresh_from_db()
    if updated:
        audit_record(actor=by, action="notification_delivery.retry", target=delivery, before=before,
                     after=snapshot(delivery, ["status", "attempts", "last_error"]))
        _enqueue_on_commit(delivery.pk)
    return delivery


# --- Escalation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationStep:
    tier: int
    after_minutes: int


def next_escalation_step(*, incident: Incident) -> EscalationStep | None:
    """The next tier above the incident's that has a channel routing it, and after how many
    minutes unacknowledged it is reached (the smallest ``escalate_after_minutes`` among its channels)."""
    candidates = [
        c for c in channels_for(incident=incident, max_tier=10_000) if c.tier > incident.escalation_tier
    ]
    if not candidates:
        return None
    tier = min(c.tier for c in candidates)
    minutes = min(
        int((c.config or {}).get("escalate_after_minutes") or DEFAULT_ESCALATE_AFTER_MINUTES)
        for c in candidates
        if c.tier == tier
    )
    return EscalationStep(tier=tier, after_minutes=minutes)


def _tier_reached_at(incident: Incident) -> datetime:
    """When the incident reached its current tier: the last escalation, else detection."""
    last = (
        TimelineEvent.objects.filter(incident=incident, kind="escalated")
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return max(last, incident.detected_at) if last else incident.detected_at


@transaction.atomic
def incident_escalate_if_unacknowledged(*, incident_id: int, now: datetime | None = None) -> int | None:
    """Raise an incident still ``detected`` to the next tier once that tier's delay has passed
    since it reached its current tier. Returns the new tier, or None when nothing was due.

    The conditional UPDATE (status and current tier unchanged) makes it happen once per tier even
    when two beat runs race; the timeline event, audit row and notifications share its transaction.
    """
    now = now or timezone.now()
    incident = Incident.objects.select_related("watch").filter(pk=incident_id, status=Status.DETECTED).first()
    if incident is None:
        return None
    step = next_escalation_step(incident=incident)
    if step is None:
        return None
    reached_at = _tier_reached_at(incident)
    if now < reached_at + timedelta(minutes=step.after_minutes):
        return None
    previous = incident.escalation_tier
    updated = Incident.objects.filter(
        pk=incident.pk, status=Status.DETECTED, escalation_tier=previous
    ).update(escalation_tier=step.tier, updated_at=now)
    if not updated:
        return None
    incident.escalation_tier = step.tier
    waited = int((now - reached_at).total_seconds() // 60)
    timeline_add(
        incident=incident,
        kind="escalated",
        text=f"Not acknowledged after {waited} minutes: escalated to notification tier {step.tier}.",
        at=now,
        data={"tier": step.tier, "from_tier": previous, "after_minutes": step.after_minutes},
    )
    audit_record(
        actor=None,
        action="incident.escalate",
        target=incident,
        before={"escalation_tier": previous},
        after={"escalation_tier": step.tier},
    )
    incident_event.send(sender=Incident, incident=incident, event=f"escalated:{step.tier}", actor=None)
    return step.tier


def incidents_awaiting_acknowledgement_ids() -> list[int]:
    """Incidents still ``detected``: the only ones escalation looks at."""
    return list(Incident.objects.filter(status=Status.DETECTED).order_by("detected_at").values_list("id", flat=True))


# --- Channels -------------------------------------------------------------------------------


@transaction.atomic
def channel_create(
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    min_severity: int,
    tier: int,
    watches: list[Any],
    by: Any,
) -> NotificationChannel:
    """Add a channel. ``config`` is validated by the kind's plug-in (raises ``ValidationError``)."""
    cleaned = get_channel(kind).validate_config(config)
    channel = NotificationChannel.objects.create(
        name=name, kind=kind, config=cleaned, min_severity=min_severity, tier=tier
    )
    channel.watches.set(watches)
    audit_record(actor=by, action="notification_channel.create", target=channel,
                 after={**snapshot(channel, CHANNEL_AUDIT_FIELDS), "watches": sorted(w.pk for w in watches)})
    return channel


@transaction.atomic
def channel_update(
    *,
    channel: NotificationChannel,
    name: str,
    config: dict[str, Any],
    min_severity: int,
    tier: int,
    watches: list[Any],
    is_active: bool,
    by: Any,
) -> NotificationChannel:
    """Change a channel's settings (its kind is fixed: delete-and-recreate is clearer than morphing)."""
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    before = {**snapshot(channel, CHANNEL_AUDIT_FIELDS), "watches": sorted(channel.watches.values_list("pk", flat=True))}
    channel.name = name
    channel.config = get_channel(channel.kind).validate_config(config)
    channel.min_severity = min_severity
    channel.tier = tier
    channel.is_active = is_active
    channel.save(update_fields=["name", "config", "min_severity", "tier", "is_active"])
    channel.watches.set(watches)
    after = {**snapshot(channel, CHANNEL_AUDIT_FIELDS), "watches": sorted(w.pk for w in watches)}
    audit_record(actor=by, action="notification_channel.update", target=channel, before=before, after=after)
    return channel


@transaction.atomic
def channel_set_active(*, channel: NotificationChannel, is_active: bool, by: Any) -> NotificationChannel:
    """Deactivate (or reactivate) a channel. Its delivery log stays; pending sends to it will fail."""
    updated = NotificationChannel.objects.filter(pk=channel.pk).exclude(is_active=is_active).update(
        is_active=is_active
    )
    if updated:
        audit_record(actor=by, action="notification_channel.activate" if is_active else "notification_channel.deactivate",
                     target=channel, before={"is_active": not is_active}, after={"is_active": is_active})
    channel.is_active = is_active
    return channel


@transaction.atomic
def channel_rotate_secret(*, channel: NotificationChannel, by: Any) -> NotificationChannel:
    """Give a webhook channel a new signing secret (the receiver must be updated too)."""
    channel.secret = secrets.token_urlsafe(32)
    channel.save(update_fields=["secret"])
    audit_record(actor=by, action="notification_channel.rotate_secret", target=channel)
    return channel


def sample_payload(*, channel: NotificationChannel, by: Any) -> dict[str, Any]:
    """A harmless sample message for the "send test" button."""
    return {
        "event": "test",
        "event_label": EVENT_LABELS["test"],
        "incident": {
            "id": 0,
            "title": f"Test from CrisisDesk for channel {channel.name}",
            "severity": int(channel.min_severity),
            "severity_label": Severity(channel.min_severity).label,
            "status": Status.DETECTED.value,
            "status_label": Status.DETECTED.label,
            "watch": "(test)",
            "escalation_tier": channel.tier,
            "detected_at": timezone.now().isoformat(),
            "url": settings.SITE_URL.rstrip("/") + reverse("incidents:notification_channels"),
        },
        "created_at": timezone.now().isoformat(),
        "test": True,
        "requested_by": getattr(by, "username", ""),
    }


def channel_send_test(*, channel: NotificationChannel, by: Any) -> str | None:
    """Send a test message now, outside any transaction (it talks to the network). Returns None on
    success or the error to show. The attempt is audited either way."""
    error: str | None = None
    try:
        get_channel(channel.kind).send(channel=channel, payload=sample_payload(channel=channel, by=by))
    except DeliveryError as exc:
        error = str(exc)
    audit_record(actor=by, action="notification_channel.test", target=channel,
                 after={"ok": error is None, "error": error or ""})
    return error
