from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.models import AuditRecord
from playbooks import selectors, services
from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus
from playbooks.rendering import PlaceholderError
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


# --- templates ------------------------------------------------------------------------------


def test_a_template_goes_draft_pending_approved(playbook, manager, manager2):
    template = services.template_create(
        playbook=playbook,
        by=manager,
        kind="apology",
        language="tr",
        title="Özür",
        body="Özür dileriz: {issue}.",
    )
    assert template.approval_state == ApprovalState.DRAFT and template.author == manager
    services.template_submit(template=template, by=manager)
    approved = services.template_approve(template=template, by=manager2)
    assert approved.approval_state == ApprovalState.APPROVED
    assert approved.approved_by == manager2 and approved.approved_at is not None
    assert actions()[-3:] == ["template.created", "template.submitted", "template.approved"]


def test_an_author_cannot_approve_their_own_template(playbook, manager):
    template = MessageTemplateFactory(playbook=playbook, author=manager, approval_state=ApprovalState.PENDING)
    with pytest.raises(services.TemplateApprovalError, match="another manager"):
        services.template_approve(template=template, by=manager)
    template.refresh_from_db()
    assert template.approval_state == ApprovalState.PENDING


def test_the_database_refuses_author_as_approver(playbook, manager):
    template = MessageTemplateFactory(playbook=playbook, author=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageTemplate.objects.filter(pk=template.pk).update(approved_by=manager, approved_at=timezone.now())


def test_only_a_pending_version_can_be_approved(playbook, manager, manager2):
    template = MessageTemplateFactory(playbook=playbook, author=manager)
    with pytest.raises(services.TemplateApprovalError, match="awaiting approval"):
        services.template_approve(template=template, by=manager2)


def test_editing_an_approved_template_creates_a_pending_version(playbook, manager, manager2):
    approved = playbook.templates.get()
    new = services.template_edit(template=approved, by=manager, body="New words about {issue}.")
    assert new.pk != approved.pk
    assert (new.family, new.version, new.approval_state, new.author) == (
        approved.family, 2, ApprovalState.PENDING, manager,
    )  # fmt: skip
    approved.refresh_from_db()
    assert approved.approval_state == ApprovalState.APPROVED  # still usable until v2 is approved
    assert list(selectors.approved_templates_for(playbook=playbook)) == [approved]

    services.template_approve(template=new, by=manager2)
    approved.refresh_from_db()
    assert approved.approval_state == ApprovalState.SUPERSEDED
    assert [t.pk for t in selectors.approved_templates_for(playbook=playbook)] == [new.pk]
    history = selectors.template_history(template=new)
    assert [(t.version, t.approval_state) for t in history] == [(2, "approved"), (1, "superseded")]
    assert "template.superseded" in actions()


def test_only_the_latest_version_can_be_edited(playbook, manager):
    approved = playbook.templates.get()
    services.template_edit(template=approved, by=manager, title="v2")
    with pytest.raises(services.PlaybookError, match="Version 2"):
        services.template_edit(template=approved, by=manager, title="v3")


def test_editing_a_pending_version_in_place_makes_the_editor_its_author(playbook, manager, manager2):
    pending = MessageTemplateFactory(playbook=playbook, author=manager, approval_state=ApprovalState.PENDING)
    edited = services.template_edit(template=pending, by=manager2, body="Edited: {brand}")
    assert edited.pk == pending.pk and edited.author == manager2
    with pytest.raises(services.TemplateApprovalError):
        services.template_approve(template=edited, by=manager2)
    services.template_approve(template=edited, by=manager)


def test_an_unchanged_edit_writes_nothing(playbook, manager):
    approved = playbook.templates.get()
    before = AuditRecord.objects.count()
    assert services.template_edit(template=approved, by=manager, title=approved.title) == approved
    assert AuditRecord.objects.count() == before


def test_template_services_refuse_unknown_placeholders(playbook, manager):
    with pytest.raises(PlaceholderError):
        services.template_create(
            playbook=playbook, by=manager, kind="reply", language="en", title="t", body="{x}"
        )
    with pytest.raises(PlaceholderError):
        services.template_edit(template=playbook.templates.get(), by=manager, body="{brand.__class__}")


def test_approved_templates_for_filters_by_language_and_kind(playbook):
    MessageTemplateFactory(
        playbook=playbook, language="pl", kind="reply", approval_state=ApprovalState.APPROVED
    )
    MessageTemplateFactory(
        playbook=playbook, language="pl", kind="reply", approval_state=ApprovalState.PENDING
    )
    assert selectors.approved_templates_for(playbook=playbook, language="pl").count() == 1
    assert selectors.approved_templates_for(playbook=playbook, kind="holding").count() == 1
    assert selectors.approved_templates_for(playbook=playbook, language="pl", kind="holding").count() == 0


def test_submit_and_return_are_idempotent_and_audited(playbook, manager, manager2):
    template = MessageTemplateFactory(playbook=playbook, author=manager)
    services.template_submit(template=template, by=manager)
    services.template_submit(template=template, by=manager)  # a double click
    assert actions().count("template.submitted") == 1
    services.template_return_to_draft(template=template, by=manager2)
    template.refresh_from_db()
    assert template.approval_state == ApprovalState.DRAFT


def test_scenario_update_is_audited_with_before_and_after(playbook, manager):
    scenario = playbook.scenario
    services.scenario_update(scenario=scenario, by=manager, trigger_terms={"tr": ["kesinti"]}, channels=["x"])
    record = AuditRecord.objects.get(action="scenario.updated")
    assert record.after["trigger_terms"] == {"tr": ["kesinti"]} and record.actor == manager
