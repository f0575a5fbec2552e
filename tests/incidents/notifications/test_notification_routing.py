"""Routing incident events to channels: severity, watch, tier; no duplicates; same transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from incidents.models import Incident, NotificationDelivery
from incidents.notifications.routing import event_key
from incidents.signals import incident_event
from tests.factories import IncidentFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel

pytestmark = pytest.mark.django_db


def fire(incident: Incident, event: str) -> None:
    with transaction.atomic():
        incident_event.send(sender=Incident, incident=incident, event=event, actor=None)


def told(event: str | None = None) -> set[str]:
    deliveries = NotificationDelivery.objects.all()
    if event:
        deliveries = deliveries.filter(event=event)
    return set(deliveries.values_list("channel__name", flat=True))


@pytest.fixture
def acme():
    return WatchFactory(name="Acme Air")


@pytest.fixture
def other_watch():
    return WatchFactory(name="Bolt Bikes")


def test_it_routes_by_severity_watch_and_tier(acme, other_watch):
    make_channel(name="all minor", min_severity=4)
    make_channel(name="major only", min_severity=2)
    make_channel(name="acme desk", min_severity=4, watches=[acme])
    make_channel(name="bolt desk", min_severity=4, watches=[other_watch])
    make_channel(name="managers", min_severity=4, tier=2)
    make_channel(name="switched off", min_severity=4, is_active=False)
    incident = IncidentFactory(watch=acme, severity=3)

    fire(incident, "opened")

    assert told("opened") == {"all minor", "acme desk"}


def test_a_critical_incident_reaches_channels_with_a_higher_minimum(acme):
    make_channel(name="major only", min_severity=2)
    make_channel(name="critical only", min_severity=1)
    fire(IncidentFactory(watch=acme, severity=1), "opened")
    assert told() == {"major only", "critical only"}


def test_the_same_event_twice_never_duplicates_a_delivery(acme, django_capture_on_commit_callbacks):
    make_channel(name="desk")
    incident = IncidentFactory(watch=acme)
    with django_capture_on_commit_callbacks() as callbacks:
        fire(incident, "opened")
    fire(incident, "opened")
    assert NotificationDelivery.objects.filter(incident=incident, event="opened").count() == 1
    assert len(callbacks) == 1  # one send enqueued, after commit


def test_deliveries_roll_back_with_the_change_that_caused_them(acme, django_capture_on_commit_callbacks):
    make_channel(name="desk")
    incident = IncidentFactory(watch=acme)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        incident_event.send(sender=Incident, incident=incident, event="opened", actor=None)
        raise RuntimeError("the incident change failed")
    assert not NotificationDelivery.objects.exists()
    assert callbacks == []  # nothing is sent for a change that never happened


def test_the_payload_is_frozen_with_what_the_message_says(acme, settings):
    settings.SITE_URL = "https://desk.example.org/"
    make_channel(name="desk")
    incident = IncidentFactory(watch=acme, severity=2, title="Kebocoran data pelanggan")
    fire(incident, "opened")
    payload = NotificationDelivery.objects.get().payload
    assert payload["event"] == "opened"
    assert payload["incident"]["title"] == "Kebocoran data pelanggan"
    assert payload["incident"]["watch"] == "Acme Air"
    assert payload["incident"]["severity"] == 2
    assert payload["incident"]["url"] == f"https://desk.example.org/incidents/{incident.pk}/"


def test_a_severity_raise_is_told_and_a_lowering_is_not(acme):
    make_channel(name="everyone", min_severity=4)
    make_channel(name="majors", min_severity=2)
    incident = IncidentFactory(watch=acme, severity=3)
    fire(incident, "opened")
    assert told("opened") == {"everyone"}

    incident.severity = 2
    incident.save()
    fire(incident, "severity:2")
    assert told("severity-2") == {"everyone", "majors"}  # majors hear of it for the first time

    incident.severity = 3
    incident.save()
    fire(incident, "severity:3")
    assert told("severity-3") == set()


def test_acknowledging_is_not_broadcast_but_resolving_is(acme):
    make_channel(name="desk")
    incident = IncidentFactory(watch=acme)
    fire(incident, "acknowledged")
    fire(incident, "status:responding")
    assert not NotificationDelivery.objects.exists()
    fire(incident, "status:resolved")
    assert told("resolved") == {"desk"}


def test_an_escalated_incident_reaches_its_new_tier(acme):
    make_channel(name="responders", tier=1)
    make_channel(name="managers", tier=2)
    make_channel(name="directors", tier=3)
    incident = IncidentFactory(watch=acme, escalation_tier=2)
    fire(incident, "escalated:2")
    assert told("escalated-tier-2") == {"responders", "managers"}


@pytest.mark.parametrize(
    ("event", "key"),
    [
        ("opened", "opened"),
        ("severity:1", "severity-1"),
        ("escalated:3", "escalated-tier-3"),
        ("status:resolved", "resolved"),
        ("acknowledged", None),
        ("status:closed", None),
        ("severity:bad", None),
    ],
)
def test_event_keys(event, key):
    assert event_key(event) == key
