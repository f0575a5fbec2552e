"""The delivery task against a real receiver: success, retries with backoff, Retry-After, permanent
failures, claims, and the beat sweeper for due deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from incidents.models import DeliveryStatus, Incident, NotificationDelivery
from incidents.notifications import delivery as deliveries
from incidents.signals import incident_event
from incidents.tasks import deliver_due_notifications, deliver_notification
from tests.factories import IncidentFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel, start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def opened_delivery(channel) -> NotificationDelivery:
    incident = IncidentFactory(watch=WatchFactory(name="Acme Air"), title="Acme Air: volume spike")
    incident_event.send(sender=Incident, incident=incident, event="opened", actor=None)
    return NotificationDelivery.objects.get(channel=channel, incident=incident)


def test_a_delivery_is_sent_once_and_logged(receiver):
    delivery = opened_delivery(make_channel(kind="webhook", url=receiver.url))
    deliver_notification(delivery.pk)
    deliver_notification(delivery.pk)  # a duplicate nudge does nothing

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1 and delivery.sent_at is not None and delivery.last_error == ""
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["X-CrisisDesk-Delivery"] == str(delivery.pk)


def test_a_server_error_is_retried_with_backoff_and_then_succeeds(receiver):
    receiver.answer((500, {}, "oops"))
    delivery = opened_delivery(make_channel(kind="slack", url=receiver.url))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at == start + timedelta(seconds=deliveries.BACKOFF_BASE_SECONDS)

    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        deliver_notification(delivery.pk)  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2 and delivery.last_error == ""
    assert len(receiver.requests) == 2


def test_too_many_requests_waits_for_retry_after(receiver):
    receiver.answer((429, {"Retry-After": "120"}, "rate limited"))
    delivery = opened_delivery(make_channel(kind="teams", url=receiver.url))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == start + timedelta(seconds=120)
    assert "HTTP 429" in delivery.last_error


def test_a_client_error_fails_at_once(receiver):
    receiver.answer((400, {}, "invalid_payload"))
    delivery = opened_delivery(make_channel(kind="slack", url=receiver.url))
    deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "HTTP 400" in delivery.last_error and "invalid_payload" in delivery.last_error
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        deliver_notification(delivery.pk)
    assert len(receiver.requests) == 1


def test_it_gives_up_after_the_last_attempt(receiver):
    receiver.answer(*([503] * deliveries.MAX_ATTEMPTS))
    delivery = opened_delivery(make_channel(kind="webhook", url=receiver.url))
    now = timezone.now()
    for _ in range(deliveries.MAX_ATTEMPTS):
        with time_machine.travel(now, tick=False):
            deliver_notification(delivery.pk)
        now += timedelta(hours=2)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == deliveries.MAX_ATTEMPTS
    assert f"gave up after {deliveries.MAX_ATTEMPTS} attempts" in delivery.last_error
    assert len(receiver.requests) == deliveries.MAX_ATTEMPTS


def test_backoff_grows_exponentially_and_honours_retry_after():
    assert [deliveries.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert deliveries.backoff_seconds(20) == deliveries.BACKOFF_MAX_SECONDS
    assert deliveries.backoff_seconds(1, retry_after=7) == 7


def test_a_claimed_delivery_is_not_sent_twice(receiver):
    delivery = opened_delivery(make_channel(kind="webhook", url=receiver.url))
    claimed = deliveries.delivery_claim(delivery_id=delivery.pk)
    assert claimed is not None and claimed.attempts == 1
    deliver_notification(delivery.pk)  # another worker: the row is leased
    assert receiver.requests == []
    assert deliveries.delivery_claim(delivery_id=delivery.pk) is None


def test_the_sweeper_resends_deliveries_whose_worker_died(receiver):
    delivery = opened_delivery(make_channel(kind="webhook", url=receiver.url))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deliveries.delivery_claim(delivery_id=delivery.pk)  # ...and the worker is killed mid-send
        assert deliveries.deliveries_due_ids() == []
    later = start + timedelta(seconds=deliveries.CLAIM_LEASE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert deliveries.deliveries_due_ids() == [delivery.pk]
        assert deliver_due_notifications() == 1  # nudges it through the broker
        deliver_notification(delivery.pk)  # what the worker does with the nudge
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2


def test_a_deactivated_channel_is_not_sent_to(receiver):
    channel = make_channel(kind="webhook", url=receiver.url)
    delivery = opened_delivery(channel)
    channel.is_active = False
    channel.save()
    deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "deactivated" in delivery.last_error
    assert receiver.requests == []


def test_email_deliveries_use_the_mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    delivery = opened_delivery(make_channel(kind="email", addresses=["desk@example.com"]))
    deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert mail.outbox[0].to == ["desk@example.com"]
    assert "Acme Air: volume spike" in mail.outbox[0].subject


def test_a_manager_can_retry_a_failed_delivery(receiver, manager):
    receiver.answer(404)
    delivery = opened_delivery(make_channel(kind="slack", url=receiver.url))
    deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    deliveries.delivery_retry(delivery=delivery, by=manager)
    deliver_notification(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
