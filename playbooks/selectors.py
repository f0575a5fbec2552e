"""Reads for playbooks: the library, one playbook's structure and its versions."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from playbooks.choices import ApprovalState, Phase, PlaybookStatus
from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario


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


def playbooks_with_structure() -> QuerySet[Playbook]:
    """Every playbook version with scenario, author, roles and checklist, in four queries however many
    there are (the API's list and detail)."""
    return (
        Playbook.objects.select_related("scenario", "created_by")
        .prefetch_related(
            Prefetch("roles", queryset=CrisisRole.objects.order_by("order", "name")),
            Prefetch(
                "checklist",
                queryset=ChecklistItem.objects.select_related("role").order_by("phase", "order", "id"),
            ),
        )
        .order_by("scenario__name", "-version", "id")
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
