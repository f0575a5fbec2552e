"""Channel management: the writes managers make on the notification pages (add, change,
deactivate, rotate a secret, send a test). Every change is audited."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crisisdesk.audit.services import audit_record, snapshot
from crisisdesk.roles import MANAGE_NOTIFICATIONS
from crisisdesk.types import Member
from incidents.models import NotificationChannel, Status
from incidents.notifications.channels import DeliveryError, get_channel
from incidents.notifications.routing import EVENT_LABELS
from monitoring.models import Severity

CHANNEL_AUDIT_FIELDS = ["name", "kind", "config", "min_severity", "tier", "is_active"]


def _require(by: Member | None) -> None:
    if not (by is not None and getattr(by, "is_active", False) and by.has_perm(MANAGE_NOTIFICATIONS)):
        raise PermissionDenied("Your role may not manage notification channels.")


@transaction.atomic
def channel_create(
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    min_severity: int,
    tier: int,
    watches: list[Any],
    by: Member,
) -> NotificationChannel:
    """Add a channel. ``config`` is validated by the kind's plug-in (raises ``ValidationError``)."""
    _require(by)
    cleaned = get_channel(kind).validate_config(config)
    channel = NotificationChannel.objects.create(
        name=name, kind=kind, config=cleaned, min_severity=min_severity, tier=tier
    )
    channel.watches.set(watches)
    audit_record(
        actor=by,
        action="notification_channel.create",
        target=channel,
        after={**snapshot(channel, CHANNEL_AUDIT_FIELDS), "watches": sorted(w.pk for w in watches)},
    )
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
    by: Member,
) -> NotificationChannel:
    """Change a channel's settings (its kind is fixed: delete-and-recreate is clearer than morphing)."""
    _require(by)
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    before = {
        **snapshot(channel, CHANNEL_AUDIT_FIELDS),
        "watches": sorted(channel.watches.values_list("pk", flat=True)),
    }
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
def channel_set_active(*, channel: NotificationChannel, is_active: bool, by: Member) -> NotificationChannel:
    """Deactivate (or reactivate) a channel. Its delivery log stays; pending sends to it will fail."""
    _require(by)
    updated = (
        NotificationChannel.objects.filter(pk=channel.pk)
        .exclude(is_active=is_active)
        .update(is_active=is_active)
    )
    if updated:
        audit_record(
            actor=by,
            action="notification_channel.activate" if is_active else "notification_channel.deactivate",
            target=channel,
            before={"is_active": not is_active},
            after={"is_active": is_active},
        )
    channel.is_active = is_active
    return channel


@transaction.atomic
def channel_rotate_secret(*, channel: NotificationChannel, by: Member) -> NotificationChannel:
    """Give a webhook channel a new signing secret (the receiver must be updated too)."""
    _require(by)
    channel.secret = secrets.token_urlsafe(32)
    channel.save(update_fields=["secret"])
    # No before/after: the audit trail must never hold a signing secret.
    audit_record(actor=by, action="notification_channel.rotate_secret", target=channel)
    return channel


def sample_payload(*, channel: NotificationChannel, by: Member) -> dict[str, Any]:
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


def channel_send_test(*, channel: NotificationChannel, by: Member) -> str | None:
    """Send a test message now, outside any transaction (it talks to the network). Returns None on
    success or the error to show. The attempt is audited either way."""
    _require(by)
    error: str | None = None
    try:
        get_channel(channel.kind).send(channel=channel, payload=sample_payload(channel=channel, by=by))
    except DeliveryError as exc:
        error = str(exc)
    audit_record(
        actor=by,
        action="notification_channel.test",
        target=channel,
        after={"ok": error is None, "error": error or ""},
    )
    return error
