"""incident_transition: the status graph, who may move it, and what each move records."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.lifecycle.services import (
    TransitionError,
    incident_acknowledge,
    incident_resolve,
    incident_transition,
)
from incidents.lifecycle.transitions import TRANSITIONS
from incidents.models import Incident, Review, Status, TimelineEvent
from incidents.signals import incident_event
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    received = []

    def receiver(sender, incident, event, actor, **kwargs):
        received.append((incident.pk, event, actor))

    incident_event.connect(receiver)
    yield received
    incident_event.disconnect(receiver)


def reviewed(incident):
    """Closing needs a post-crisis review (the closing_blockers hook)."""
    Review.objects.create(incident=incident, summary="What happened and what we learned.")
    return incident


def walk(incident, by, *statuses):
    for status in statuses:
        incident_transition(incident=incident, to_status=status, by=by)
    return incident


def test_a_responder_acknowledges_and_it_is_recorded(responder, events):
    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)

    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.acknowledged_by == responder
    assert incident.acknowledged_at is not None
    event = TimelineEvent.objects.get(incident=incident, kind="status:acknowledged")
    assert event.actor == responder and event.phase == "during"
    audit = AuditRecord.objects.get(action="incident.status.acknowledged", object_id=str(incident.pk))
    assert audit.actor == responder
    assert audit.before["status"] == "detected" and audit.after["status"] == "acknowledged"
    assert events == [(incident.pk, "acknowledged", responder)]


def test_the_whole_happy_path_records_every_timestamp(responder, manager, events):
    incident = IncidentFactory()
    walk(incident, responder, Status.ACKNOWLEDGED, Status.RESPONDING, Status.MONITORING, Status.RESOLVED)
    reviewed(incident)
    incident_transition(incident=incident, to_status=Status.CLOSED, by=manager, note="Review done")

    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
    for field in ("acknowledged_at", "responding_at", "monitoring_at", "resolved_at", "closed_at"):
        assert getattr(incident, field) is not None, field
    assert incident.resolved_by == responder and incident.closed_by == manager
    kinds = list(TimelineEvent.objects.filter(incident=incident).values_list("kind", "phase"))
    assert kinds == [
        ("status:acknowledged", "during"),
        ("status:responding", "during"),
        ("status:monitoring", "during"),
        ("status:resolved", "post"),
        ("status:closed", "post"),
    ]
    assert "Review done" in TimelineEvent.objects.get(kind="status:closed").text
    assert [e for _, e, _ in events] == [
        "acknowledged",
        "status:responding",
        "status:monitoring",
        "status:resolved",
        "status:closed",
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), Status.RESPONDING),
        ((), Status.RESOLVED),
        ((), Status.CLOSED),
        ((Status.ACKNOWLEDGED,), Status.MONITORING),
        ((Status.ACKNOWLEDGED,), Status.DETECTED),
        ((Status.ACKNOWLEDGED, Status.RESOLVED), Status.MONITORING),
    ],
)
def test_it_refuses_moves_outside_the_graph(responder, manager, path, target):
    incident = walk(IncidentFactory(), responder, *path)
    before = incident.status
    with pytest.raises(TransitionError, match="cannot be moved"):
        incident_transition(incident=incident, to_status=target, by=manager)
    incident.refresh_from_db()
    assert incident.status == before
    assert not AuditRecord.objects.filter(action=f"incident.status.{target}").exists()


def test_the_graph_is_the_documented_one():
    assert TRANSITIONS == {
        "detected": ("acknowledged",),
        "acknowledged": ("responding", "resolved"),
        "responding": ("monitoring", "resolved"),
        "monitoring": ("resolved", "responding"),
        "resolved": ("closed", "responding"),
        "closed": (),
    }


def test_it_refuses_a_viewer(viewer):
    incident = IncidentFactory()
    with pytest.raises(PermissionDenied):
        incident_acknowledge(incident=incident, by=viewer)
    incident.refresh_from_db()
    assert incident.status == Status.DETECTED


def test_only_managers_close(responder, manager, admin_member):
    incident = walk(IncidentFactory(), responder, Status.ACKNOWLEDGED, Status.RESOLVED)
    reviewed(incident)
    with pytest.raises(PermissionDenied):
        incident_transition(incident=incident, to_status=Status.CLOSED, by=responder)
    incident_transition(incident=incident, to_status=Status.CLOSED, by=manager)
    assert Incident.objects.get(pk=incident.pk).status == Status.CLOSED

    other = reviewed(walk(IncidentFactory(), responder, Status.ACKNOWLEDGED, Status.RESOLVED))
    incident_transition(incident=other, to_status=Status.CLOSED, by=admin_member)
    assert Incident.objects.get(pk=other.pk).closed_by == admin_member


def test_a_second_acknowledge_is_a_clear_refusal(responder, responder2):
    incident = IncidentFactory()
    stale_copy = Incident.objects.get(pk=incident.pk)
    incident_acknowledge(incident=incident, by=responder)
    # The colleague's page still showed "detected": the locked row decides.
    with pytest.raises(TransitionError, match="already acknowledged"):
        incident_acknowledge(incident=stale_copy, by=responder2)
    incident.refresh_from_db()
    assert incident.acknowledged_by == responder
    assert TimelineEvent.objects.filter(incident=incident, kind="status:acknowledged").count() == 1


def test_relapse_goes_back_to_responding(responder):
    incident = walk(IncidentFactory(), responder, Status.ACKNOWLEDGED, Status.RESPONDING, Status.MONITORING)
    incident_transition(incident=incident, to_status=Status.RESPONDING, by=responder, note="Second wave")
    assert incident.status == Status.RESPONDING
    assert TimelineEvent.objects.filter(kind="status:responding").last().text.startswith("Relapse")


def test_reopening_puts_later_events_back_in_the_during_phase(responder):
    incident = walk(IncidentFactory(), responder, Status.ACKNOWLEDGED)
    incident_resolve(incident=incident, by=responder, note="Statement published")
    assert incident.resolved_at is not None
    incident_transition(incident=incident, to_status=Status.RESPONDING, by=responder)
    incident.refresh_from_db()
    assert incident.status == Status.RESPONDING and incident.resolved_at is None
    reopen = TimelineEvent.objects.filter(kind="status:responding").get()
    assert reopen.phase == "during" and reopen.text.startswith("Reopen")
    assert TimelineEvent.objects.get(kind="status:resolved").phase == "post"


def test_reopen_is_refused_when_the_watch_has_another_open_incident(responder):
    old = walk(IncidentFactory(), responder, Status.ACKNOWLEDGED, Status.RESOLVED)
    IncidentFactory(watch=old.watch, detected_at=timezone.now() + timedelta(minutes=1))
    with pytest.raises(TransitionError, match="Another incident is already open"):
        incident_transition(incident=old, to_status=Status.RESPONDING, by=responder)
    assert Incident.objects.get(pk=old.pk).status == Status.RESOLVED


def test_closing_asks_the_blockers_hook(responder, manager, monkeypatch):
    incident = walk(IncidentFactory(), responder, Status.ACKNOWLEDGED, Status.RESOLVED)
    monkeypatch.setattr(
        "incidents.lifecycle.services.closing_blockers", lambda inc: ["Write the review first."]
    )
    with pytest.raises(TransitionError, match="Write the review first"):
        incident_transition(incident=incident, to_status=Status.CLOSED, by=manager)
    assert Incident.objects.get(pk=incident.pk).status == Status.RESOLVED


def test_an_unknown_status_is_refused(responder):
    with pytest.raises(TransitionError, match="Unknown status"):
        incident_transition(incident=IncidentFactory(), to_status="exploded", by=responder)


@pytest.mark.django_db(transaction=True)
def test_two_responders_acknowledging_at_once_apply_it_once(responder, responder2):
    if connection.vendor != "postgresql":
        pytest.skip("row locks race only on PostgreSQL (SQLite serialises writers)")
    incident = IncidentFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def click(user):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            incident_acknowledge(incident=Incident.objects.get(pk=incident.pk), by=user)
            outcomes.append("ok")
        except TransitionError:
            outcomes.append("refused")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in (responder, responder2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert TimelineEvent.objects.filter(incident=incident, kind="status:acknowledged").count() == 1
    assert AuditRecord.objects.filter(action="incident.status.acknowledged").count() == 1
