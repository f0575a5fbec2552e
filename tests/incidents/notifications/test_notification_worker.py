"""An opened incident reaches a receiver on 127.0.0.1 through a REAL Celery worker on Redis:
receiver → on_commit → broker → worker → channel plug-in; a 500 is retried via the broker."""

from __future__ import annotations

import time

import celery.contrib.testing.tasks  # noqa: F401  (registers the ping task start_worker checks)
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from crisisdesk.celery import app as celery_app
from incidents.models import DeliveryStatus, Incident, NotificationDelivery
from incidents.notifications import delivery as deliveries
from incidents.signals import incident_event
from tests.availability import redis_db_url, require_redis, xdist_worker_number
from tests.factories import IncidentFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel, start_receiver

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _reset_connections() -> None:
    # Forget the cached pools so the next publish connects to the broker configured now (kombu keeps
    # one pool per connection URL, so the old one stays usable for whoever switches back).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def redis_worker(monkeypatch):
    require_redis()
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    number = xdist_worker_number()
    celery_app.conf.broker_url = redis_db_url(2 + 2 * number)  # one Redis db per xdist worker
    celery_app.conf.broker_transport_options = {}
    _reset_connections()
    # Retries come back quickly in this test; production backs off from 30 s.
    monkeypatch.setattr(deliveries, "BACKOFF_BASE_SECONDS", 1)
    with celery_app.connection_for_write() as connection:
        for queue in ("celery", "default", "notifications"):
            connection.default_channel.queue_purge(queue)  # nothing left over from an earlier run
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=["default", "notifications"]):
        yield
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
    _reset_connections()


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_an_opened_incident_is_delivered_by_the_worker_after_a_retry(redis_worker, receiver):
    receiver.answer((500, {}, "try later"))
    channel = make_channel(kind="webhook", url=receiver.url)
    incident = IncidentFactory(watch=WatchFactory(name="Acme Air"), severity=2)
    with transaction.atomic():
        incident_event.send(sender=Incident, incident=incident, event="opened", actor=None)

    delivery = NotificationDelivery.objects.get(channel=channel, incident=incident)
    assert wait_for(lambda: NotificationDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2
    assert receiver.requests[1].json()["incident"]["id"] == incident.pk
