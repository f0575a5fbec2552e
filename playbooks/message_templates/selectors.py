"""Reads for message templates: families of versions, history, what is approved and what awaits approval."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus


@dataclass
class TemplateFamily:
    """All versions of one template in a playbook: what is in use, and what awaits approval."""

    family: uuid.UUID
    versions: list[MessageTemplate] = field(default_factory=list)  # newest first

    @property
    def latest(self) -> MessageTemplate:
        return self.versions[0]

    @property
    def in_use(self) -> MessageTemplate | None:
        return next((t for t in self.versions if t.approval_state == ApprovalState.APPROVED), None)

    @property
    def open_version(self) -> MessageTemplate | None:
        """The newest version if it is still a draft or awaiting approval."""
        latest = self.latest
        return latest if latest.approval_state in (ApprovalState.DRAFT, ApprovalState.PENDING) else None


def template_families(*, playbook: Playbook) -> list[TemplateFamily]:
    """The playbook's templates grouped by family (uses the prefetched templates when present)."""
    families: dict[uuid.UUID, TemplateFamily] = {}
    for template in playbook.templates.all():
        families.setdefault(template.family, TemplateFamily(template.family)).versions.append(template)
    for fam in families.values():
        fam.versions.sort(key=lambda t: -t.version)
    return sorted(
        families.values(), key=lambda f: (f.latest.kind, f.latest.language, f.latest.channel, f.latest.title)
    )


def template_history(*, template: MessageTemplate) -> QuerySet[MessageTemplate]:
    """Every version of ``template``'s family in its playbook, newest first."""
    return (
        MessageTemplate.objects.filter(playbook_id=template.playbook_id, family=template.family)
        .select_related("author", "approved_by")
        .order_by("-version")
    )


def approved_templates_for(
    *, playbook: Playbook, language: str | None = None, kind: str | None = None
) -> QuerySet[MessageTemplate]:
    """The latest approved version of each template family in ``playbook`` — what may be used now.

    Approving a version supersedes the older approved one, so normally there is one per family;
    the ``Exists`` keeps the contract even if a race left two.
    """
    newer_approved = MessageTemplate.objects.filter(
        playbook_id=OuterRef("playbook_id"),
        family=OuterRef("family"),
        version__gt=OuterRef("version"),
        approval_state=ApprovalState.APPROVED,
    )
    templates = MessageTemplate.objects.filter(
        playbook=playbook, approval_state=ApprovalState.APPROVED
    ).exclude(Exists(newer_approved))
    if language:
        templates = templates.filter(language=language)
    if kind:
        templates = templates.filter(kind=kind)
    return templates.order_by("kind", "language", "channel", "title")


def pending_templates() -> QuerySet[MessageTemplate]:
    """Template versions awaiting approval on playbooks still in use, oldest request first."""
    return (
        MessageTemplate.objects.filter(approval_state=ApprovalState.PENDING)
        .exclude(playbook__status=PlaybookStatus.RETIRED)
        .select_related("playbook", "playbook__scenario", "author")
        .order_by("created_at", "id")
    )
