"""Routing: which channels hear of an incident event, and the deliveries that event creates.

The database is the source of truth: a ``NotificationDelivery`` row exists (unique per channel,
incident and event) before any message is sent, and is created in the transaction of the change it
tells about; the send is only nudged after commit (``incidents.nudges``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from incidents import nudges
from incidents.models import (
    ChannelKind,
    DeliveryStatus,
    Incident,
    NotificationChannel,
    NotificationDelivery,
    Status,
)
from monitoring.models import Severity

EVENT_LABELS = {
    "opened": "Incident opened",
    "resolved": "Incident resolved",
    "test": "Test notification",
    "update-overdue": "Next public update overdue",
}


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
    if name == "update-overdue" and value.isdigit():  # one per promise: its due time is in the key
        return f"update-overdue-{int(value)}"
    return None


def event_label(key: str) -> str:
    if key in EVENT_LABELS:
        return EVENT_LABELS[key]
    if key.startswith("severity-"):
        return f"Severity raised to SEV{key.removeprefix('severity-')}"
    if key.startswith("escalated-tier-"):
        return f"Not acknowledged: escalated to tier {key.removeprefix('escalated-tier-')}"
    if key.startswith("update-overdue-"):
        return EVENT_LABELS["update-overdue"]
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
        # A dark site's subscribers hear only what was published for them, never team events.
        .exclude(kind=ChannelKind.SUBSCRIBERS)
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
            NotificationDelivery(
                channel=c, incident=incident, event=key, payload=payload, next_attempt_at=now
            )
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
        nudges.deliver_notification(delivery.pk)
    return deliveries
