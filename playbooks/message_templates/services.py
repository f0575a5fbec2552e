"""Writes for message templates: versions and the two-person approval.

A new template is a family at version 1, in draft; its author submits it and *another* manager
approves it (author ≠ approver, also a database constraint). Editing an approved template makes
version+1 awaiting approval: the approved one stays in use until the new one is approved, then is
superseded. Templates on a retired playbook version are history and cannot be edited.

Every change writes an audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.audit import audit_record, snapshot
from playbooks.message_templates.placeholders import validate_template_body
from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus
from playbooks.services import PlaybookError, apply_changes, check_editable

TEMPLATE_FIELDS = [
    "playbook", "family", "version", "kind", "channel", "language", "title", "body",
    "approval_state", "author", "approved_by", "approved_at",
]  # fmt: skip
TEMPLATE_EDITABLE = {"kind", "channel", "language", "title", "body"}


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
    by: Any,
    kind: str,
    language: str,
    title: str,
    body: str,
    channel: str = "all",
) -> MessageTemplate:
    """A new template family at version 1, in draft: submit it, then another manager approves it."""
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
        author=by if getattr(by, "is_authenticated", False) else None,
    )
    audit_record(
        actor=by, action="template.created", target=template, after=_template_snapshot(template)
    )
    return template


@transaction.atomic
def template_submit(*, template: MessageTemplate, by: Any) -> MessageTemplate:
    """Ask for approval: draft → pending (a conditional UPDATE, so a double click is harmless)."""
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
def template_approve(*, template: MessageTemplate, by: Any) -> MessageTemplate:
    """Approve a pending version (``by`` must not be its author); older approved versions are superseded."""
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    if template.author_id is not None and template.author_id == getattr(by, "pk", None):
        raise TemplateApprovalError("You wrote this version, so another manager must approve it.")
    if template.approval_state != ApprovalState.PENDING:
        raise TemplateApprovalError(
            f"Only a version awaiting approval can be approved; this one is {template.get_approval_state_display()}."
        )
    template.approval_state = ApprovalState.APPROVED
    template.approved_by = by
    template.approved_at = timezone.now()
    try:
        with transaction.atomic():
            template.save(update_fields=["approval_state", "approved_by", "approved_at"])
    except IntegrityError as exc:  # the database's author ≠ approver check, should a race get here
        raise TemplateApprovalError("You wrote this version, so another manager must approve it.") from exc
    audit_record(
        actor=by, action="template.approved", target=template,
        before={"approval_state": ApprovalState.PENDING},
        after={"approval_state": ApprovalState.APPROVED, "approved_by": by.pk},
    )  # fmt: skip
    older = MessageTemplate.objects.select_for_update().filter(
        playbook_id=template.playbook_id,
        family=template.family,
        version__lt=template.version,
        approval_state=ApprovalState.APPROVED,
    )
    for old in older:
        old.approval_state = ApprovalState.SUPERSEDED
        old.save(update_fields=["approval_state"])
        audit_record(
            actor=by, action="template.superseded", target=old,
            before={"approval_state": ApprovalState.APPROVED},
            after={"approval_state": ApprovalState.SUPERSEDED, "by_version": template.version},
        )  # fmt: skip
    return template


@transaction.atomic
def template_edit(*, template: MessageTemplate, by: Any, **changes: Any) -> MessageTemplate:
    """Edit the latest version of a template.

    A draft or pending version is edited in place (``by`` becomes its author, so they can't approve
    their own words). An approved version is left untouched and in use: the edit becomes version+1,
    awaiting approval. Returns the version that holds the edit.
    """
    check_editable(changes, TEMPLATE_EDITABLE)
    if "body" in changes:
        validate_template_body(changes["body"])
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    _writable_playbook(template.playbook_id)
    latest = (
        MessageTemplate.objects.filter(playbook_id=template.playbook_id, family=template.family)
        .order_by("-version")
        .first()
    )
    if latest.pk != template.pk:
        raise PlaybookError(
            f"Version {latest.version} of this template is newer ({latest.get_approval_state_display()}); edit that one."
        )
    if all(getattr(template, name) == value for name, value in changes.items()):
        return template
    before = _template_snapshot(template)
    if template.approval_state in (ApprovalState.DRAFT, ApprovalState.PENDING):
        changed = apply_changes(template, changes)
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
def template_return_to_draft(*, template: MessageTemplate, by: Any) -> MessageTemplate:
    """Send a pending version back to its author as a draft (a reviewer's "not yet")."""
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
