"""playbook_activate: snapshotting a playbook into an incident's tasks, crisis roles and drafts."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import Draft, Incident, RoleAssignment, Task, TimelineEvent
from incidents.response.selectors import suggested_playbook
from incidents.response.services import ResponseError, playbook_activate
from playbooks.models import ChecklistItem, MessageTemplate, PlaybookStatus
from tests.factories import IncidentFactory, PlaybookFactory, ScenarioFactory, WatchFactory
from tests.incidents.response.helpers import ready_playbook

pytestmark = pytest.mark.django_db


def test_it_snapshots_tasks_roles_and_approved_templates(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(
        watch=WatchFactory(name="Acme Air"),
        title="Acme Air: volume spike",
        public_summary="Flights delayed at WAW",
        scenario=playbook.scenario,
    )
    before = timezone.now()
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    after = timezone.now()

    incident.refresh_from_db()
    assert incident.playbook == playbook
    tasks = {t.title: t for t in Task.objects.filter(incident=incident)}
    assert set(tasks) == {"Confirm the facts", "Publish a holding statement", "Write the review"}
    assert (
        before + timedelta(minutes=15) <= tasks["Confirm the facts"].due_at <= after + timedelta(minutes=15)
    )
    assert tasks["Publish a holding statement"].role_name == "Spokesperson"
    assert tasks["Write the review"].due_at is None and tasks["Write the review"].phase == "post"

    roles = RoleAssignment.objects.filter(incident=incident)
    assert [(r.role_name, r.user) for r in roles] == [("Incident lead", None), ("Spokesperson", None)]
    assert roles.get(role_name="Incident lead").responsibilities == "Runs the response."

    drafts = {(d.kind, d.language): d for d in Draft.objects.filter(incident=incident)}
    assert set(drafts) == {("holding", "en"), ("holding", "tr")}  # not the pending apology, not v1
    english = drafts[("holding", "en")]
    assert english.template_version == 2 and english.status == "draft" and english.author is None
    assert english.title == "Holding statement about Acme Air"
    assert english.body == "We know about Flights delayed at WAW at Acme Air. Next update: {next_update}."
    assert drafts[("holding", "tr")].body == "Acme Air olarak Flights delayed at WAW konusunu inceliyoruz."

    event = TimelineEvent.objects.get(incident=incident, kind="playbook:activated")
    assert event.actor == responder and "3 task(s), 2 crisis role(s), 2 draft(s)" in event.text
    audit = AuditRecord.objects.get(action="incident.playbook.activated", object_id=str(incident.pk))
    assert audit.after["playbook"] == playbook.pk and audit.before == {
        "playbook": None,
        "scenario": playbook.scenario_id,
    }


def test_later_playbook_edits_never_rewrite_the_incident(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    playbook_activate(incident=incident, playbook=playbook, by=responder)

    ChecklistItem.objects.filter(playbook=playbook).update(title="Changed later", due_offset_minutes=1)
    MessageTemplate.objects.filter(playbook=playbook).update(body="Rewritten later")
    playbook.roles.update(responsibilities="Changed later")

    assert not Task.objects.filter(incident=incident, title="Changed later").exists()
    assert not Draft.objects.filter(incident=incident, body="Rewritten later").exists()
    assert not RoleAssignment.objects.filter(incident=incident, responsibilities="Changed later").exists()


def test_it_only_takes_the_watch_languages_when_the_watch_names_some(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(
        watch=WatchFactory(name="Türk Hava", languages=["tr"]), scenario=playbook.scenario
    )
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    assert list(Draft.objects.filter(incident=incident).values_list("language", flat=True)) == ["tr"]


def test_activating_twice_is_refused_with_a_clear_message(responder, manager):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    with pytest.raises(ResponseError, match="already active on this incident"):
        playbook_activate(incident=Incident.objects.get(pk=incident.pk), playbook=playbook, by=manager)
    assert Task.objects.filter(incident=incident).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_racing_activations_make_one_snapshot(responder, responder2):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers anyway)")
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def activate(user):
        try:
            barrier.wait()
            playbook_activate(incident=Incident.objects.get(pk=incident.pk), playbook=playbook, by=user)
            outcomes.append("ok")
        except ResponseError:
            outcomes.append("refused")
        finally:
            connection.close()  # this thread's own connection: never left open on the test database

    threads = [threading.Thread(target=activate, args=(u,)) for u in (responder, responder2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Task.objects.filter(incident=incident).count() == 3


def test_it_refuses_a_viewer(viewer):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    with pytest.raises(PermissionDenied):
        playbook_activate(incident=incident, playbook=playbook, by=viewer)
    assert not Task.objects.filter(incident=incident).exists()


def test_it_refuses_a_retired_playbook(responder):
    playbook = ready_playbook()
    playbook.status = PlaybookStatus.RETIRED
    playbook.save()
    incident = IncidentFactory()
    with pytest.raises(ResponseError, match="only an active playbook"):
        playbook_activate(incident=incident, playbook=playbook, by=responder)


def test_it_refuses_a_closed_incident(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(status="closed")
    with pytest.raises(ResponseError, match="closed"):
        playbook_activate(incident=incident, playbook=playbook, by=responder)


def test_it_sets_the_scenario_when_the_incident_had_none(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=None)
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    incident.refresh_from_db()
    assert incident.scenario == playbook.scenario


def test_the_suggestion_follows_scenario_then_hint_then_watch_default():
    breach = ready_playbook("data_breach")
    defect = PlaybookFactory(scenario=ScenarioFactory(type="product_defect", name="Product defect"))
    assert suggested_playbook(IncidentFactory(scenario=breach.scenario)) == breach
    assert suggested_playbook(IncidentFactory(scenario=None, scenario_hint="product_defect")) == defect
    watch = WatchFactory(default_scenario=breach.scenario)
    assert suggested_playbook(IncidentFactory(watch=watch, scenario=None)) == breach
    assert suggested_playbook(IncidentFactory(scenario=None, scenario_hint="")) is None
    PlaybookFactory(scenario=breach.scenario, status="retired", version=0)
    assert suggested_playbook(IncidentFactory(scenario=breach.scenario)) == breach


def test_one_click_activation_from_the_page(responder, client_for):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    client = client_for(responder)
    page = client.get(f"/incidents/{incident.pk}/")
    assert f"Activate {playbook.name}" in page.content.decode()

    response = client.post(f"/incidents/{incident.pk}/playbook/activate/", {"playbook": playbook.pk})
    assert response.status_code == 302 and response.url.endswith(f"/incidents/{incident.pk}/#tasks")
    page = client.get(f"/incidents/{incident.pk}/")
    assert "Confirm the facts" in page.content.decode()

    again = client.post(
        f"/incidents/{incident.pk}/playbook/activate/", {"playbook": playbook.pk}, follow=True
    )
    assert "cannot be activated twice" in again.content.decode()


def test_the_activation_endpoint_refuses_a_viewer_and_names_a_bad_field(viewer, responder, client_for):
    incident = IncidentFactory()
    assert (
        client_for(viewer).post(f"/incidents/{incident.pk}/playbook/activate/", {"playbook": 1}).status_code
        == 403
    )
    page = client_for(responder).post(
        f"/incidents/{incident.pk}/playbook/activate/", {"playbook": "x"}, follow=True
    )
    assert "playbook:" in page.content.decode().lower()


def test_only_someone_who_can_activate_is_told_to_pick_a_playbook(viewer, responder, client_for):
    ready_playbook()
    incident = IncidentFactory(scenario=None, scenario_hint="")

    as_responder = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    as_viewer = client_for(viewer).get(f"/incidents/{incident.pk}/").content.decode()

    assert "No playbook matches this incident's scenario yet. Pick one below." in as_responder
    assert "No playbook matches this incident's scenario yet." in as_viewer
    assert "Pick one below" not in as_viewer
    assert 'id="id_activate_playbook"' not in as_viewer


def test_the_empty_evidence_panel_points_only_a_responder_at_the_capture_button(
    viewer, responder, client_for
):
    incident = IncidentFactory()

    as_responder = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    as_viewer = client_for(viewer).get(f"/incidents/{incident.pk}/").content.decode()

    assert "Nothing captured yet. Use “Capture as evidence” in the response queue." in as_responder
    assert "Nothing captured yet." in as_viewer
    assert "Use “Capture as evidence”" not in as_viewer
