"""Severity changes and ownership: reasons required, roles checked, everything recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crisisdesk.models import AuditRecord
from incidents.lifecycle.services import (
    TransitionError,
    incident_assign_owner,
    incident_change_severity,
    incident_transition,
)
from incidents.models import Status, TimelineEvent
from incidents.signals import incident_event
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_raising_the_severity_records_the_reason(responder):
    incident = IncidentFactory(severity=3)
    sent = []
    incident_event.connect(receiver := lambda sender, **kw: sent.append(kw["event"]))
    try:
        incident_change_severity(
            incident=incident, severity=1, reason="National press picked it up", by=responder
        )
    finally:
        incident_event.disconnect(receiver)
    incident.refresh_from_db()
    assert incident.severity == 1
    event = TimelineEvent.objects.get(incident=incident, kind="severity")
    assert event.text == "Severity raised from SEV3 to SEV1: National press picked it up"
    assert event.actor == responder
    audit = AuditRecord.objects.get(action="incident.severity")
    assert audit.before == {"severity": 3} and audit.after["reason"] == "National press picked it up"
    assert sent == ["severity:1"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_severity_change_needs_a_reason(responder, reason):
    incident = IncidentFactory(severity=3)
    with pytest.raises(ValidationError) as exc:
        incident_change_severity(incident=incident, severity=2, reason=reason, by=responder)
    assert "reason" in exc.value.message_dict
    incident.refresh_from_db()
    assert incident.severity == 3


def test_a_severity_outside_sev1_to_sev4_is_refused(responder):
    with pytest.raises(ValidationError) as exc:
        incident_change_severity(incident=IncidentFactory(), severity=7, reason="why not", by=responder)
    assert "severity" in exc.value.message_dict


def test_the_same_severity_is_not_a_change(responder):
    with pytest.raises(TransitionError, match="already SEV3"):
        incident_change_severity(incident=IncidentFactory(severity=3), severity=3, reason="x", by=responder)


def test_a_viewer_cannot_change_severity(viewer):
    with pytest.raises(PermissionDenied):
        incident_change_severity(incident=IncidentFactory(), severity=1, reason="x", by=viewer)


def test_assigning_an_owner(responder, responder2):
    incident = IncidentFactory()
    incident_assign_owner(incident=incident, owner=responder2, by=responder)
    incident.refresh_from_db()
    assert incident.owner == responder2
    assert TimelineEvent.objects.get(kind="owner").text == f"Owner set to {responder2.username}"
    assert AuditRecord.objects.get(action="incident.owner").after == {"owner": responder2.pk}
    incident_assign_owner(incident=incident, owner=None, by=responder)
    incident.refresh_from_db()
    assert incident.owner is None


def test_a_viewer_cannot_own_an_incident(responder, viewer):
    with pytest.raises(ValidationError) as exc:
        incident_assign_owner(incident=IncidentFactory(), owner=viewer, by=responder)
    assert "owner" in exc.value.message_dict


def test_a_closed_incident_cannot_be_reassigned(responder, responder2, manager):
    from incidents.models import Review

    incident = IncidentFactory()
    for status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        incident_transition(incident=incident, to_status=status, by=responder)
    Review.objects.create(incident=incident, summary="done")
    incident_transition(incident=incident, to_status=Status.CLOSED, by=manager)
    with pytest.raises(TransitionError, match="closed"):
        incident_assign_owner(incident=incident, owner=responder2, by=responder)
