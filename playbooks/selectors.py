"""Reads for playbooks: the library, one playbook's structure, template families and approvals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from playbooks.models import (
    ApprovalState,
    ChecklistItem,
    CrisisRole,
    MessageTemplate,
    Phase,
    Playbook,
    PlaybookStatus,
    Scenario,
)


def playbook_list(*, status: str | None = None, scenario_type: str | None = None) -> QuerySet[Playbook]:
    """The library: every version, by scenario then newest version first, with structure counts."""
    playbooks = Playbook.objects.select_related("scenario").annotate(
        role_count=Count("roles", distinct=True),
        item_count=Count("checklist", distinct=True),
        pending_count=Count(
            "templates", filter=Q(templates__approval_state=ApprovalState.PENDING), distinct=True
        ),
        approved_count=Count(
            "templates", filter=Q(templates__approval_state=ApprovalState.APPROVED), distinct=True
        ),
    )
    if status:
        playbooks = playbooks.filter(status=status)
    if scenario_type:
        playbooks = playbooks.filter(scenario__type=scenario_type)
    return playbooks.order_by("scenario__name", "-version")


def scenarios_without_playbook() -> QuerySet[Scenario]:
    return Scenario.objects.filter(playbooks__isnull=True).order_by("name")


def playbook_get(*, pk: int) -> Playbook:
    """One playbook with everything its page shows, in a fixed number of queries."""
    return (
        Playbook.objects.select_related("scenario", "previous", "created_by")
        .prefetch_related(
            Prefetch("roles", queryset=CrisisRole.objects.order_by("order", "name")),
            Prefetch(
                "checklist", queryset=ChecklistItem.objects.select_related("role").order_by("order", "id")
            ),
            Prefetch(
                "templates",
                queryset=MessageTemplate.objects.select_related("author", "approved_by").order_by(
                    "kind", "language", "channel", "family", "-version"
                ),
            ),
        )
        .get(pk=pk)
    )


def playbook_versions(*, playbook: Playbook) -> QuerySet[Playbook]:
    """Every version of the playbook's scenario, newest first (the browsable history)."""
    return (
        Playbook.objects.filter(scenario_id=playbook.scenario_id)
        .select_related("created_by")
        .order_by("-version")
    )


def active_playbook_for(*, scenario: Scenario | None) -> Playbook | None:
    """The scenario's active playbook, which incidents are offered on activation."""
    if scenario is None:
        return None
    return Playbook.objects.filter(scenario=scenario, status=PlaybookStatus.ACTIVE).first()


def checklist_by_phase(*, playbook: Playbook) -> list[tuple[str, str, list[ChecklistItem]]]:
    """``[(phase, label, items)]`` in pre → during → post order, from the prefetched checklist."""
    items = list(playbook.checklist.all())
    return [(value, label, [i for i in items if i.phase == value]) for value, label in Phase.choices]


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
