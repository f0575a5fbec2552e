"""The playbooks read API: playbooks with roles and checklist, templates in every approval state."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import (
    ChecklistItemFactory,
    CrisisRoleFactory,
    MessageTemplateFactory,
    PlaybookFactory,
    ScenarioFactory,
)

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name, *args):
    return reverse(f"crisisdesk:{name}", args=args)


def test_a_viewer_reads_a_playbook_with_its_roles_and_checklist(viewer):
    scenario = ScenarioFactory(
        type="data_breach", name="Data breach", trigger_terms={"tr": ["veri sızıntısı"]}
    )
    playbook = PlaybookFactory(scenario=scenario, name="Data breach")
    lead = CrisisRoleFactory(playbook=playbook, name="Incident lead", order=0)
    CrisisRoleFactory(playbook=playbook, name="Legal", order=1)
    ChecklistItemFactory(
        playbook=playbook, phase="during", order=1, title="Notify the DPO", role=lead, due_offset_minutes=60
    )
    ChecklistItemFactory(playbook=playbook, phase="pre", order=0, title="Freeze scheduled posts", role=None)

    data = api_for(viewer).get(url("playbook-detail", playbook.pk)).json()

    assert data["scenario"]["type"] == "data_breach"
    assert data["scenario"]["trigger_terms"] == {"tr": ["veri sızıntısı"]}
    assert [r["name"] for r in data["roles"]] == ["Incident lead", "Legal"]
    assert [(i["phase"], i["title"], i["role_name"]) for i in data["checklist"]] == [
        ("during", "Notify the DPO", "Incident lead"),
        ("pre", "Freeze scheduled posts", None),
    ]


def test_the_playbook_list_does_not_grow_queries_with_playbooks(viewer, django_assert_max_num_queries):
    for scenario_type in ("product_defect", "service_failure", "data_breach", "misinformation"):
        playbook = PlaybookFactory(scenario=ScenarioFactory(type=scenario_type, name=scenario_type))
        role = CrisisRoleFactory(playbook=playbook)
        ChecklistItemFactory.create_batch(3, playbook=playbook, role=role)
    client = api_for(viewer)
    with django_assert_max_num_queries(6):  # 2 permission lookups, count, playbooks, roles, checklist
        assert len(client.get(url("playbook-list")).json()["results"]) == 4


def test_playbooks_filter_by_status_and_scenario(viewer):
    active = PlaybookFactory(scenario=ScenarioFactory(type="product_defect", name="Defect"), status="active")
    PlaybookFactory(scenario=active.scenario, status="retired", version=0)
    PlaybookFactory(scenario=ScenarioFactory(type="data_breach", name="Breach"), status="active")
    rows = (
        api_for(viewer).get(url("playbook-list"), {"status": "active", "scenario": "product_defect"}).json()
    )
    assert [r["id"] for r in rows["results"]] == [active.pk]
    assert api_for(viewer).get(url("playbook-list"), {"scenario": "alien_invasion"}).status_code == 400


def test_templates_in_every_approval_state_are_readable_and_filterable(viewer, manager, manager2):
    playbook = PlaybookFactory()
    approved = MessageTemplateFactory(
        playbook=playbook,
        language="pl",
        approval_state="approved",
        author=manager,
        approved_by=manager2,
        body="Wiemy o problemie z {issue}. Kolejna aktualizacja: {next_update}.",
    )
    pending = MessageTemplateFactory(playbook=playbook, approval_state="pending", author=manager)
    client = api_for(viewer)

    everything = client.get(url("message-template-list"), {"playbook": playbook.pk}).json()["results"]
    usable = client.get(url("message-template-list"), {"approval_state": "approved"}).json()["results"]

    assert {t["id"] for t in everything} == {approved.pk, pending.pk}
    assert [(t["id"], t["author"], t["approved_by"], t["body"]) for t in usable] == [
        (approved.pk, manager.username, manager2.username, approved.body)
    ]
    assert client.get(url("message-template-list"), {"approval_state": "maybe"}).status_code == 400
    assert client.get(url("message-template-detail", pending.pk)).json()["approval_state"] == "pending"


def test_scenarios_list_the_ids_a_watch_can_point_at(viewer):
    scenario = ScenarioFactory(type="viral_complaint", name="Viral complaint")
    assert [s["id"] for s in api_for(viewer).get(url("scenario-list")).json()["results"]] == [scenario.pk]


def test_strangers_get_401_and_nobody_writes_playbooks_through_the_api(manager):
    playbook = PlaybookFactory()
    assert APIClient().get(url("playbook-list")).status_code == 401
    client = api_for(manager)
    assert client.post(url("playbook-list"), {"name": "x"}, format="json").status_code == 405
    assert client.delete(url("playbook-detail", playbook.pk)).status_code == 405
    assert client.patch(url("message-template-list"), {}, format="json").status_code == 405
