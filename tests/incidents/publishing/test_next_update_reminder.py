"""Next update due: when a promised public update's time passes, the sweeper reminds the team once
per promise (timeline, audit, the incident's notification channels)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import NotificationChannel, NotificationDelivery, Status, TimelineEvent
from incidents.publishing.services import (
    darksite_publish,
    incident_remind_overdue_update,
    incident_set_next_update_due,
)
from incidents.tasks import remind_overdue_updates

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_channel(db):
    return NotificationChannel.objects.create(
        name="team", kind="email", config={"addresses": ["team@example.org"]}
    )


def make_overdue(incident, by, minutes_ago=1):
    """Promise an update, then let its time pass (as if ``minutes_ago`` minutes ago)."""
    incident_set_next_update_due(incident=incident, due=timezone.now() + timedelta(minutes=5), by=by)
    passed = timezone.now() - timedelta(minutes=minutes_ago)
    type(incident).objects.filter(pk=incident.pk).update(next_update_due=passed)


def test_an_overdue_promise_reminds_the_team_once(incident, responder, team_channel):
    make_overdue(incident, responder)
    assert remind_overdue_updates() == 1
    assert remind_overdue_updates() == 0
    event = TimelineEvent.objects.get(incident=incident, kind="next-update-overdue")
    assert "overdue" in event.text and "owner: nobody" in event.text
    assert AuditRecord.objects.filter(action="incident.next_update_overdue").exists()
    delivery = NotificationDelivery.objects.get(channel=team_channel)
    assert delivery.event.startswith("update-overdue-")
    assert delivery.payload["event_label"] == "Next public update overdue"


def test_a_new_promise_can_be_reminded_again(incident, responder, team_channel):
    make_overdue(incident, responder)
    assert incident_remind_overdue_update(incident_id=incident.pk)
    make_overdue(incident, responder, minutes_ago=2)  # a second promise, also passed
    assert incident_remind_overdue_update(incident_id=incident.pk)
    assert NotificationDelivery.objects.filter(channel=team_channel).count() == 2


def test_a_promise_not_yet_due_or_a_resolved_incident_stays_quiet(incident, responder, team_channel):
    incident_set_next_update_due(incident=incident, due=timezone.now() + timedelta(hours=1), by=responder)
    assert remind_overdue_updates() == 0
    make_overdue(incident, responder)
    type(incident).objects.filter(pk=incident.pk).update(status=Status.RESOLVED)
    assert remind_overdue_updates() == 0


def test_publishing_an_update_keeps_the_promise(live, incident, approved, responder):
    make_overdue(incident, responder)
    darksite_publish(draft=approved("Here is the update we promised."), by=responder)
    incident.refresh_from_db()
    assert incident.next_update_due is None
    assert remind_overdue_updates() == 0


def test_the_incident_list_shows_the_promise_and_when_it_is_overdue(client_for, viewer, incident, responder):
    incident_set_next_update_due(incident=incident, due=timezone.now() + timedelta(hours=1), by=responder)
    page = client_for(viewer).get("/incidents/").content.decode()
    assert "next update by" in page
    make_overdue(incident, responder)
    page = client_for(viewer).get("/incidents/").content.decode()
    assert "public update overdue" in page
