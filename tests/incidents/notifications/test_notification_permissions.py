"""The notification writes authorize themselves: only a member who may manage notifications changes them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from crisisdesk.models import AuditRecord
from incidents.models import DeliveryStatus, NotificationChannel, NotificationDelivery
from incidents.notifications import delivery, services
from tests.factories import IncidentFactory
from tests.incidents.notifications.receiver import make_channel

pytestmark = pytest.mark.django_db

URL = "https://hooks.slack.com/services/T0/B0/XYZ"


def test_channel_management_refuses_a_responder(responder):
    channel = make_channel(kind="slack", url=URL)
    with pytest.raises(PermissionDenied):
        services.channel_create(
            name="Other room",
            kind="slack",
            config={"url": URL},
            min_severity=4,
            tier=1,
            watches=[],
            by=responder,
        )
    with pytest.raises(PermissionDenied):
        services.channel_update(
            channel=channel,
            name="Renamed",
            config={"url": URL},
            min_severity=1,
            tier=2,
            watches=[],
            is_active=True,
            by=responder,
        )
    with pytest.raises(PermissionDenied):
        services.channel_set_active(channel=channel, is_active=False, by=responder)
    with pytest.raises(PermissionDenied):
        services.channel_rotate_secret(channel=channel, by=responder)
    with pytest.raises(PermissionDenied):
        services.channel_send_test(channel=channel, by=responder)
    assert list(NotificationChannel.objects.values_list("name", "is_active", "tier")) == [
        ("Crisis room", True, 1)
    ]
    assert not AuditRecord.objects.exists()


def test_a_responder_cannot_retry_a_failed_delivery(responder):
    failed = NotificationDelivery.objects.create(
        channel=make_channel(kind="slack", url=URL),
        incident=IncidentFactory(),
        event="opened",
        status=DeliveryStatus.FAILED,
        attempts=6,
    )
    with pytest.raises(PermissionDenied):
        delivery.delivery_retry(delivery=failed, by=responder)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 6)


def test_a_manager_manages_channels(manager):
    channel = services.channel_create(
        name="Crisis room", kind="slack", config={"url": URL}, min_severity=4, tier=1, watches=[], by=manager
    )
    services.channel_set_active(channel=channel, is_active=False, by=manager)
    assert NotificationChannel.objects.get(pk=channel.pk).is_active is False
