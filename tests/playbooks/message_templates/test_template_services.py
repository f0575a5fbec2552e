"""Message template services: versions and the two-person approval, each audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.models import AuditRecord
from playbooks.message_templates import selectors, services
from playbooks.message_templates.placeholders import PlaceholderError
from playbooks.models import ApprovalState, MessageTemplate, PlaybookStatus
from playbooks.services import PlaybookError
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
    with pytest.raises(PlaybookError, match="Version 2"):
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


def test_a_responder_may_not_write_or_submit_templates(playbook, responder, manager):
    with pytest.raises(PermissionDenied, match="may not write message templates"):
        services.template_create(
            playbook=playbook, by=responder, kind="reply", language="en", title="t", body="Hi"
        )
    draft = MessageTemplateFactory(playbook=playbook, author=manager)
    with pytest.raises(PermissionDenied):
        services.template_submit(template=draft, by=responder)
    with pytest.raises(PermissionDenied):
        services.template_edit(template=draft, by=responder, title="Mine now")
    draft.refresh_from_db()
    assert (draft.approval_state, draft.author) == (ApprovalState.DRAFT, manager)


def test_approving_needs_the_approval_permission(playbook, manager):
    editor = User.objects.create_user("editor")
    editor.user_permissions.add(Permission.objects.get(codename="manage_playbooks"))
    editor = User.objects.get(pk=editor.pk)
    pending = MessageTemplateFactory(playbook=playbook, author=manager, approval_state=ApprovalState.PENDING)
    with pytest.raises(PermissionDenied, match="may not approve"):
        services.template_approve(template=pending, by=editor)
    with pytest.raises(PermissionDenied, match="may not approve"):
        services.template_return_to_draft(template=pending, by=editor)
    pending.refresh_from_db()
    assert pending.approval_state == ApprovalState.PENDING
