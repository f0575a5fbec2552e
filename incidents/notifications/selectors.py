"""Notification reads for pages: channels and the delivery log, without N+1 queries."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from incidents.models import DeliveryStatus, Incident, NotificationChannel, NotificationDelivery
from incidents.notifications.channels import CHANNELS
from monitoring.models import Watch


def channel_list() -> list[NotificationChannel]:
    """All channels with their watches, delivery counts per status and ``target`` (where their
    plug-in sends, said safely) for the channels page."""
    channels: list[NotificationChannel] = list(
        NotificationChannel.objects.prefetch_related(
            Prefetch("watches", queryset=Watch.objects.only("id", "name"))
        )
        .annotate(
            sent_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
            failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        )
        .order_by("-is_active", "tier", "name")
    )
    for channel in channels:
        # A display attribute the channels page reads off each row, not a column: the model
        # doesn't know the plug-ins (imports run downhill), so the selector sets it.
        channel.target = (  # type: ignore[attr-defined]
            CHANNELS[channel.kind].target(channel.config or {}) if channel.kind in CHANNELS else ""
        )
    return channels


def delivery_list(
    *, status: str = "", channel_id: int | None = None, incident_id: int | None = None
) -> QuerySet[NotificationDelivery]:
    """The delivery log, newest first, optionally filtered."""
    deliveries = NotificationDelivery.objects.select_related("channel", "incident").defer("payload")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    if channel_id:
        deliveries = deliveries.filter(channel_id=channel_id)
    if incident_id:
        deliveries = deliveries.filter(incident_id=incident_id)
    return deliveries.order_by("-created_at", "-id")


def delivery_list_for_incident(*, incident: Incident | int, limit: int = 50) -> list[NotificationDelivery]:
    """Who was told what about one incident (for the incident page's include)."""
    incident_id = incident.pk if isinstance(incident, Incident) else incident
    return list(
        NotificationDelivery.objects.filter(incident_id=incident_id)
        .select_related("channel")
        .defer("payload")
        .order_by("-created_at", "-id")[:limit]
    )
