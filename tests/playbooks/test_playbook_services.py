"""Playbook services: scenarios, versions, crisis roles and checklist steps, each audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from crisisdesk.models import AuditRecord
from playbooks import services
from playbooks.models import ApprovalState, Playbook, PlaybookStatus
from tests.factories import ChecklistItemFactory, CrisisRoleFactory, MessageTemplateFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditRecord.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def playbook():
    playbook = PlaybookFactory(status=PlaybookStatus.ACTIVE)
    lead = CrisisRoleFactory(playbook=playbook, name="Incident lead")
    ChecklistItemFactory(
        playbook=playbook, title="Publish holding statement", role=lead, due_offset_minutes=60
    )
    MessageTemplateFactory(playbook=playbook, approval_state=ApprovalState.APPROVED, author=None)
    return playbook


# --- versioning -----------------------------------------------------------------------------


def test_new_version_copies_structure_and_retires_the_old(playbook, manager):
    new = services.playbook_new_version(playbook=playbook, by=manager)
    playbook.refresh_from_db()
    assert playbook.status == PlaybookStatus.RETIRED
    assert (new.status, new.version, new.previous_id) == (PlaybookStatus.ACTIVE, 2, playbook.pk)
    assert [r.name for r in new.roles.all()] == ["Incident lead"]
    item = new.checklist.get()
    assert item.role.playbook_id == new.pk and item.due_offset_minutes == 60
    copied = new.templates.get()
    original = playbook.templates.get()
    assert copied.approval_state == ApprovalState.APPROVED and copied.body == original.body
    assert copied.family != original.family  # the old version's history stays its own
    assert {"playbook.retired", "playbook.new_version"} <= set(actions())


def test_editing_an_active_playbooks_structure_creates_a_version(playbook, manager):
    role = services.role_add(playbook=playbook, by=manager, name="Spokesperson", responsibilities="Talks.")
    assert role.playbook.version == 2 and role.playbook.status == PlaybookStatus.ACTIVE
    assert sorted(role.playbook.roles.values_list("name", flat=True)) == ["Incident lead", "Spokesperson"]
    assert list(playbook.roles.values_list("name", flat=True)) == ["Incident lead"]  # history untouched
    assert Playbook.objects.filter(scenario=playbook.scenario, status=PlaybookStatus.ACTIVE).count() == 1


def test_editing_a_checklist_item_follows_it_into_the_new_version(playbook, manager):
    item = playbook.checklist.get()
    edited = services.checklist_item_edit(item=item, by=manager, due_offset_minutes=30, title="Post it")
    assert edited.pk != item.pk and edited.playbook.version == 2
    assert (edited.title, edited.due_offset_minutes, edited.role.name) == ("Post it", 30, "Incident lead")
    item.refresh_from_db()
    assert (item.title, item.due_offset_minutes) == ("Publish holding statement", 60)


def test_a_draft_is_edited_in_place(manager):
    draft = PlaybookFactory(status=PlaybookStatus.DRAFT)
    role = services.role_add(playbook=draft, by=manager, name="Legal counsel")
    assert role.playbook_id == draft.pk
    target = services.role_remove(role=role, by=manager)
    assert target.pk == draft.pk and not draft.roles.exists()


def test_a_retired_version_cannot_be_edited(playbook, manager):
    services.playbook_retire(playbook=playbook, by=manager)
    with pytest.raises(services.PlaybookError, match="retired"):
        services.role_add(playbook=playbook, by=manager, name="Someone")
    with pytest.raises(services.PlaybookError, match="already retired"):
        services.playbook_retire(playbook=playbook, by=manager)


def test_a_role_name_is_unique_in_a_playbook(manager):
    draft = PlaybookFactory(status=PlaybookStatus.DRAFT)
    services.role_add(playbook=draft, by=manager, name="Spokesperson")
    with pytest.raises(services.PlaybookError, match="already has a role"):
        services.role_add(playbook=draft, by=manager, name="Spokesperson")


def test_a_checklist_item_cannot_use_another_playbooks_role(manager):
    draft = PlaybookFactory(status=PlaybookStatus.DRAFT)
    foreign = CrisisRoleFactory()
    with pytest.raises(services.PlaybookError, match="another playbook"):
        services.checklist_item_add(playbook=draft, by=manager, title="x", role=foreign)


def test_activating_a_draft_retires_the_active_version(playbook, manager):
    draft = services.playbook_create(scenario=playbook.scenario, by=manager, name="Rewrite")
    assert (draft.status, draft.version) == (PlaybookStatus.DRAFT, 2)
    services.playbook_activate(playbook=draft, by=manager)
    playbook.refresh_from_db()
    draft.refresh_from_db()
    assert (playbook.status, draft.status) == (PlaybookStatus.RETIRED, PlaybookStatus.ACTIVE)


def test_the_database_allows_one_active_playbook_per_scenario(playbook):
    with pytest.raises(IntegrityError), transaction.atomic():
        Playbook.objects.create(scenario=playbook.scenario, name="Second", status=PlaybookStatus.ACTIVE)


def test_scenario_update_is_audited_with_before_and_after(playbook, manager):
    scenario = playbook.scenario
    services.scenario_update(scenario=scenario, by=manager, trigger_terms={"tr": ["kesinti"]}, channels=["x"])
    record = AuditRecord.objects.get(action="scenario.updated")
    assert record.after["trigger_terms"] == {"tr": ["kesinti"]} and record.actor == manager


# --- who may write --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["viewer", "responder"])
def test_it_refuses_a_member_who_may_not_manage_playbooks(request, playbook, persona):
    member = request.getfixturevalue(persona)
    writes = [
        lambda: services.scenario_update(scenario=playbook.scenario, by=member, name="Renamed"),
        lambda: services.playbook_create(scenario=playbook.scenario, by=member, name="Rewrite"),
        lambda: services.playbook_update(playbook=playbook, by=member, name="Renamed"),
        lambda: services.playbook_new_version(playbook=playbook, by=member),
        lambda: services.playbook_retire(playbook=playbook, by=member),
        lambda: services.role_add(playbook=playbook, by=member, name="Spokesperson"),
        lambda: services.role_remove(role=playbook.roles.get(), by=member),
        lambda: services.checklist_item_edit(item=playbook.checklist.get(), by=member, title="x"),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied, match="may not change playbooks"):
            write()
    assert Playbook.objects.count() == 1 and playbook.roles.count() == 1 and actions() == []
