"""Escalation: an incident nobody acknowledges climbs to the next notification tier, once per tier."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import Incident, NotificationDelivery, Status, TimelineEvent
from incidents.notifications import escalation
from incidents.notifications.escalation import incident_escalate_if_unacknowledged
from incidents.tasks import escalate_unacknowledged
from tests.factories import IncidentFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def tiers():
    make_channel(name="responders", tier=1)
    make_channel(name="managers", tier=2, escalate_after_minutes=15)
    make_channel(name="directors", tier=3, escalate_after_minutes=30)


def test_it_escalates_after_the_delay_and_only_once(tiers, start):
    incident = IncidentFactory(watch=WatchFactory(name="Acme Air"), detected_at=start)

    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert escalate_unacknowledged() == 0
    incident.refresh_from_db()
    assert incident.escalation_tier == 1

    with time_machine.travel(start + timedelta(minutes=15, seconds=5), tick=False):
        assert escalate_unacknowledged() == 1
        assert escalate_unacknowledged() == 0  # the next beat run finds it already at tier 2
    incident.refresh_from_db()
    assert incident.escalation_tier == 2

    [event] = TimelineEvent.objects.filter(incident=incident, kind="escalated")
    assert event.phase == "during" and "tier 2" in event.text and event.data["from_tier"] == 1
    audit = AuditRecord.objects.get(action="incident.escalate", object_id=str(incident.pk))
    assert audit.before == {"escalation_tier": 1} and audit.after == {"escalation_tier": 2}
    told = set(
        NotificationDelivery.objects.filter(event="escalated-tier-2").values_list("channel__name", flat=True)
    )
    assert told == {"responders", "managers"}


def test_the_next_tier_waits_its_own_delay_from_the_previous_escalation(tiers, start):
    incident = IncidentFactory(detected_at=start)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        escalate_unacknowledged()
    with time_machine.travel(start + timedelta(minutes=16 + 29), tick=False):
        escalate_unacknowledged()
    incident.refresh_from_db()
    assert incident.escalation_tier == 2
    with time_machine.travel(start + timedelta(minutes=16 + 31), tick=False):
        escalate_unacknowledged()
    incident.refresh_from_db()
    assert incident.escalation_tier == 3
    assert NotificationDelivery.objects.filter(event="escalated-tier-3", channel__name="directors").exists()


def test_an_acknowledged_incident_is_not_escalated(tiers, start):
    incident = IncidentFactory(detected_at=start, status=Status.ACKNOWLEDGED)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert escalate_unacknowledged() == 0
    incident.refresh_from_db()
    assert incident.escalation_tier == 1
    assert not TimelineEvent.objects.filter(incident=incident).exists()


def test_without_a_higher_tier_for_it_nothing_happens(start):
    make_channel(name="responders", tier=1)
    make_channel(name="majors-only managers", tier=2, min_severity=2)  # does not route a SEV3
    incident = IncidentFactory(detected_at=start, severity=3)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert incident_escalate_if_unacknowledged(incident_id=incident.pk) is None
    incident.refresh_from_db()
    assert incident.escalation_tier == 1


def test_the_default_delay_is_fifteen_minutes(start):
    make_channel(name="managers", tier=2)
    incident = IncidentFactory(detected_at=start)
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert incident_escalate_if_unacknowledged(incident_id=incident.pk) is None
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        assert incident_escalate_if_unacknowledged(incident_id=incident.pk) == 2


def test_a_stale_tier_read_cannot_escalate_twice(tiers, start, monkeypatch):
    incident = IncidentFactory(detected_at=start)
    original = escalation._tier_reached_at

    def concurrent_beat_escalates_first(read_incident):
        # Another beat run escalates between our read and our conditional UPDATE.
        Incident.objects.filter(pk=read_incident.pk).update(escalation_tier=2)
        return original(read_incident)

    monkeypatch.setattr(escalation, "_tier_reached_at", concurrent_beat_escalates_first)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert incident_escalate_if_unacknowledged(incident_id=incident.pk) is None
    assert not TimelineEvent.objects.filter(incident=incident, kind="escalated").exists()
    assert not NotificationDelivery.objects.exists()
