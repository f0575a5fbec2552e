"""Writes for message templates: versions and the two-person approval.

A new template is a family at version 1, in draft; its author submits it and *another* manager
approves it (author ≠ approver, also a database constraint). Editing an approved template makes
version+1 awaiting approval: the approved one stays in use until the new one is approved, then is
superseded. Templates on a retired playbook version are history and cannot be edited.

Writing needs ``MANAGE_PLAYBOOKS``; approving and sending back need ``APPROVE_TEMPLATES``
(``PermissionDenied`` otherwise). Every change writes an audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.roles import APPROVE_TEMPLATES, MANAGE_PLAYBOOKS, ensure_permission
from crisisdesk.types import Member
from playbooks.message_templates.placeholders import validate_template_body
from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus
from playbooks.services import PlaybookError, changed_values, check_editable

TEMPLATE_FIELDS = [
    "playbook", "family", "version", "kind", "channel", "language", "title", "body",
    "approval_state", "author", "approved_by", "approved_at",
]  # fmt: skip
TEMPLATE_EDITABLE = {"kind", "channel", "language", "title", "body"}

_MAY_NOT_WRITE = "Your role may not write message templates."
_MAY_NOT_APPROVE = "Your role may not approve message templates."


class TemplateApprovalError(PlaybookError):
    """An approval that breaks the four-eyes rule or the approval order."""


def _template_snapshot(template: MessageTemplate) -> dict[str, Any]:
    values = snapshot(template, TEMPLATE_FIELDS)
    values["family"] = str(template.family)  # a UUID; audit rows hold JSON
    return values


def _writable_playbook(playbook_id: int) -> Playbook:
    playbook = Playbook.objects.get(pk=playbook_id)
    if playbook.status == PlaybookStatus.RETIRED:
        raise PlaybookError("This playbook version is retired; templates are edited on the current version.")
    return playbook


@transaction.atomic
def template_create(
    *,
    playbook: Playbook,
    by: Member,
    kind: str,
    language: str,
    title: str,
    body: str,
    channel: str = "all",
) -> MessageTemplate:
    """A new template family at version 1, in draft: submit it, then another manager approves it."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT_WRITE)
    validate_template_body(body)
    playbook = _writable_playbook(playbook.pk)
    template = MessageTemplate.objects.create(
        playbook=playbook,
        kind=kind,
        channel=channel,
        language=language,
        title=title.strip(),
        body=body,
        approval_state=ApprovalState.DRAFT,
        author=by,
    )
    audit_record(actor=by, action="template.created", target=template, after=_template_snapshot(template))
    return template


@transaction.atomic
def template_submit(*, template: MessageTemplate, by: Member) -> MessageTemplate:
    """Ask for approval: draft → pending (a conditional UPDATE, so a double click is harmless)."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT_WRITE)
    updated = MessageTemplate.objects.filter(pk=template.pk, approval_state=ApprovalState.DRAFT).update(
        approval_state=ApprovalState.PENDING
    )
    template.refresh_from_db()
    if not updated:
        if template.approval_state == ApprovalState.PENDING:
            return template
        raise PlaybookError(
            f"Only a draft can be submitted; this version is {template.get_approval_state_display()}."
        )
    audit_record(
        actor=by, action="template.submitted", target=template,
        before={"approval_state": ApprovalState.DRAFT}, after={"approval_state": ApprovalState.PENDING},
    )  # fmt: skip
    return template


@transaction.atomic
def template_approve(*, template: MessageTemplate, by: Member) -> MessageTemplate:
    """Approve a pending version (``by`` must not be its author); older approved versions are superseded."""
    ensure_permission(by, APPROVE_TEMPLATES, _MAY_NOT_APPROVE)
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    if template.author_id is not None and template.author_id == by.pk:
        raise TemplateApprovalError("You wrote this version, so another manager must approve it.")
    if template.approval_state != ApprovalState.PENDING:
        raise TemplateApprovalError(
            f"Only a version awaiting approval can be approved; this one is {template.get_approval_state_display()}."
        )
    try:
        with transaction.atomic():
            audited_update(
                instance=template, by=by, action="template.approved",
                changes={"approval_state": ApprovalState.APPROVED, "approved_by": by, "approved_at": timezone.now()},
                audit_fields=["approval_state"], extra_after={"approved_by": by.pk},
            )  # fmt: skip
    except IntegrityError as exc:  # the database's author ≠ approver check, should a race get here
        raise TemplateApprovalError("You wrote this version, so another manager must approve it.") from exc
    older = MessageTemplate.objects.select_for_update().filter(
        playbook_id=template.playbook_id,
        family=template.family,
        version__lt=template.version,
        approval_state=ApprovalState.APPROVED,
    )
    for old in older:
        audited_update(
            instance=old, by=by, action="template.superseded", changes={"approval_state": ApprovalState.SUPERSEDED},
            extra_after={"by_version": template.version},
        )  # fmt: skip
    return template


@transaction.atomic
def template_edit(*, template: MessageTemplate, by: Member, **changes: Any) -> MessageTemplate:
    """Edit the latest version of a template.

    A draft or pending version is edited in place (``by`` becomes its author, so they can't approve
    their own words). An approved version is left untouched and in use: the edit becomes version+1,
    awaiting approval. Returns the version that holds the edit.
    """
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT_WRITE)
    check_editable(changes, TEMPLATE_EDITABLE)
    if "body" in changes:
        validate_template_body(changes["body"])
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    _writable_playbook(template.playbook_id)
    # [0], not .first(): the family holds ``template`` itself, so it is never empty.
    latest = MessageTemplate.objects.filter(
        playbook_id=template.playbook_id, family=template.family
    ).order_by("-version")[0]
    if latest.pk != template.pk:
        raise PlaybookError(
            f"Version {latest.version} of this template is newer "
            f"({latest.get_approval_state_display()}); edit that one."
        )
    changed = changed_values(template, changes)
    if not changed:
        return template
    before = _template_snapshot(template)
    if template.approval_state in (ApprovalState.DRAFT, ApprovalState.PENDING):
        # Not audited_update: the audit rows show the family as a string (a UUID is not JSON).
        for name, value in changed.items():
            setattr(template, name, value)
        template.author = by
        template.save(update_fields=[*changed, "author"])
        audit_record(
            actor=by, action="template.edited", target=template, before=before,
            after=_template_snapshot(template),
        )  # fmt: skip
        return template
    if template.approval_state != ApprovalState.APPROVED:
        raise PlaybookError("A superseded version is history; edit the latest version.")
    values = {name: getattr(template, name) for name in TEMPLATE_EDITABLE} | changes
    new = MessageTemplate.objects.create(
        playbook_id=template.playbook_id,
        family=template.family,
        version=template.version + 1,
        approval_state=ApprovalState.PENDING,
        author=by,
        **values,
    )
    audit_record(
        actor=by,
        action="template.new_version",
        target=new,
        before=before,
        after=_template_snapshot(new),
    )
    return new


@transaction.atomic
def template_return_to_draft(*, template: MessageTemplate, by: Member) -> MessageTemplate:
    """Send a pending version back to its author as a draft (a reviewer's "not yet")."""
    ensure_permission(by, APPROVE_TEMPLATES, _MAY_NOT_APPROVE)
    updated = MessageTemplate.objects.filter(pk=template.pk, approval_state=ApprovalState.PENDING).update(
        approval_state=ApprovalState.DRAFT
    )
    template.refresh_from_db()
    if not updated:
        raise PlaybookError("Only a version awaiting approval can be sent back.")
    audit_record(
        actor=by, action="template.returned", target=template,
        before={"approval_state": ApprovalState.PENDING}, after={"approval_state": ApprovalState.DRAFT},
    )  # fmt: skip
    return template
