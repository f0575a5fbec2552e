"""Crisis roles: assigning team members (responders and up) to an incident's roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crisisdesk.models import AuditRecord
from incidents.models import RoleAssignment, TimelineEvent
from incidents.response.services import ResponseError, crisis_role_assign, playbook_activate
from tests.factories import IncidentFactory
from tests.incidents.response.helpers import ready_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    return incident


def test_a_responder_assigns_a_crisis_role(incident, responder, manager):
    lead = RoleAssignment.objects.get(incident=incident, role_name="Incident lead")
    crisis_role_assign(assignment=lead, user=manager, by=responder)
    lead.refresh_from_db()
    assert lead.user == manager and lead.assigned_by == responder and lead.assigned_at
    event = TimelineEvent.objects.get(incident=incident, kind="role:assigned")
    assert event.text == f"Incident lead: {manager.username}"
    audit = AuditRecord.objects.get(action="incident.role.assigned", object_id=str(lead.pk))
    assert audit.before["user"] is None and audit.after["user"] == manager.pk


def test_unassigning_and_reassigning(incident, responder, responder2):
    lead = RoleAssignment.objects.get(incident=incident, role_name="Incident lead")
    crisis_role_assign(assignment=lead, user=responder2, by=responder)
    with pytest.raises(ResponseError, match="already holds"):
        crisis_role_assign(assignment=lead, user=responder2, by=responder)
    crisis_role_assign(assignment=lead, user=None, by=responder)
    lead.refresh_from_db()
    assert lead.user is None


def test_a_viewer_cannot_hold_or_hand_out_a_role(incident, responder, viewer, client_for):
    lead = RoleAssignment.objects.get(incident=incident, role_name="Incident lead")
    with pytest.raises(ValidationError):
        crisis_role_assign(assignment=lead, user=viewer, by=responder)
    with pytest.raises(PermissionDenied):
        crisis_role_assign(assignment=lead, user=responder, by=viewer)
    assert (
        client_for(viewer)
        .post(f"/incidents/{incident.pk}/roles/{lead.pk}/", {"user": responder.pk})
        .status_code
        == 403
    )
    page = client_for(responder).post(
        f"/incidents/{incident.pk}/roles/{lead.pk}/", {"user": viewer.pk}, follow=True
    )
    assert "user:" in page.content.decode().lower()
    lead.refresh_from_db()
    assert lead.user is None


def test_the_side_panel_shows_roles_with_responsibilities(incident, responder, responder2, client_for):
    lead = RoleAssignment.objects.get(incident=incident, role_name="Incident lead")
    response = client_for(responder).post(
        f"/incidents/{incident.pk}/roles/{lead.pk}/", {"user": responder2.pk}
    )
    assert response.status_code == 302
    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    roles_html = html[html.index('id="crisis-roles"') :]
    assert "Runs the response." in roles_html and responder2.username in roles_html
