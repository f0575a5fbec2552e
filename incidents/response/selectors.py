"""Reads for working an incident: the playbook suggestion, tasks, crisis roles, drafts, the response
queue and evidence. ``response_panel_context`` feeds the incident page's panels in a fixed number of
queries, however many tasks, drafts or mentions the incident has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from incidents.lifecycle.selectors import assignable_members, incident_mentions
from incidents.models import Draft, DraftStatus, Evidence, Incident, Reply, RoleAssignment, Task
from monitoring.models import Mention, SentimentLabel
from playbooks.message_templates.selectors import approved_templates_for
from playbooks.models import MessageTemplate, Phase, Playbook, PlaybookStatus, Scenario, TemplateKind

QUEUE_PAGE_SIZE = 20
# A mention this risky waits for an answer whatever its sentiment label (a neutral-sounding "my
# account was hacked" from a large account). Risk runs 0 … 1 (monitoring.scoring.risk_for).
QUEUE_HIGH_RISK = getattr(settings, "RESPONSE_QUEUE_HIGH_RISK", 0.5)
QUEUE_REACH_CHOICES = (0, 1_000, 10_000, 100_000)
QUEUE_ANSWERED = ("answered", "unanswered")
QUEUE_SORTS = {"risk": ("-risk", "-published_at", "-id"), "newest": ("-published_at", "-id")}
# Suggest a holding statement when the flood is more than the team can answer one by one.
HOLDING_NEGATIVE_PER_HOUR = getattr(settings, "HOLDING_STATEMENT_NEGATIVE_PER_HOUR", 20)
REPLIES_PER_MEMBER_PER_WINDOW = getattr(settings, "REPLIES_PER_MEMBER_PER_WINDOW", 10)


# --- Playbook --------------------------------------------------------------------------------


def suggested_playbook(incident: Incident) -> Playbook | None:
    """The active playbook for the incident's scenario, else for its scenario hint, else the watch's default."""
    scenario_ids: list[int] = []
    if incident.scenario_id:
        scenario_ids.append(incident.scenario_id)
    if incident.scenario_hint:
        hinted = Scenario.objects.filter(type=incident.scenario_hint).values_list("pk", flat=True).first()
        if hinted:
            scenario_ids.append(hinted)
    if incident.watch.default_scenario_id:
        scenario_ids.append(incident.watch.default_scenario_id)
    if not scenario_ids:
        return None
    active = {
        p.scenario_id: p
        for p in Playbook.objects.filter(
            scenario_id__in=scenario_ids, status=PlaybookStatus.ACTIVE
        ).select_related("scenario")
    }
    return next((active[pk] for pk in scenario_ids if pk in active), None)


def activatable_playbooks() -> QuerySet[Playbook]:
    """Every active playbook, for the picker."""
    return (
        Playbook.objects.filter(status=PlaybookStatus.ACTIVE)
        .select_related("scenario")
        .order_by("scenario__name")
    )


# --- Tasks and roles -------------------------------------------------------------------------


@dataclass
class TaskGroup:
    phase: str
    label: str
    tasks: list[Task]

    @property
    def done(self) -> int:
        return sum(1 for task in self.tasks if task.completed_at)


def tasks_by_phase(incident: Incident) -> list[TaskGroup]:
    """Tasks in pre → during → post order; within a phase by checklist order."""
    tasks = list(
        Task.objects.filter(incident=incident).select_related("completed_by").order_by("order", "id")
    )
    return [
        TaskGroup(value, label, [t for t in tasks if t.phase == value])
        for value, label in Phase.choices
        if any(t.phase == value for t in tasks)
    ]


def role_assignments(incident: Incident) -> list[RoleAssignment]:
    return list(
        RoleAssignment.objects.filter(incident=incident)
        .select_related("user")
        .order_by("crisis_role__order", "role_name")
    )


# --- Drafts ----------------------------------------------------------------------------------


def drafts_for(incident: Incident) -> list[Draft]:
    """Work first (in review, approved, draft), then what was published; by kind and language."""
    rank: dict[str, int] = {
        DraftStatus.IN_REVIEW: 0,
        DraftStatus.APPROVED: 1,
        DraftStatus.DRAFT: 2,
        DraftStatus.PUBLISHED: 3,
    }
    drafts = list(
        Draft.objects.filter(incident=incident).select_related("author", "approver", "published_by")
    )
    kinds = {value: i for i, value in enumerate(TemplateKind.values)}
    drafts.sort(key=lambda d: (rank.get(d.status, 9), kinds.get(d.kind, 99), d.language, d.pk))
    return drafts


# Up to this many drafts, every language group is shown open: nothing to hide.
DRAFTS_ALL_OPEN_MAX = 6


@dataclass
class DraftGroup:
    """The drafts of one language, for the incident page's drafts panel."""

    language: str
    drafts: list[Draft]
    open: bool  # shown unfolded: the watch's main language, or someone has worked on one of them
    in_review: int
    approved: int
    published: int


def _worked_on(draft: Draft) -> bool:
    """Someone touched it: written or edited by a person, or past the plain template stage."""
    return draft.author_id is not None or draft.status != DraftStatus.DRAFT


def draft_groups(drafts: list[Draft], languages: list[str]) -> list[DraftGroup]:
    """``drafts`` (as ``drafts_for`` orders them) by language: the watch's languages in its order
    (its first is the main one), then any other language.

    A playbook activated on a five-language watch adds a draft per approved template and language
    (often more than fifteen); folding the languages nobody has worked on yet keeps the panel short.
    """
    by_language: dict[str, list[Draft]] = {}
    for draft in drafts:
        by_language.setdefault(draft.language, []).append(draft)
    rank = {code: i for i, code in enumerate(dict.fromkeys(languages))}
    order = sorted(by_language, key=lambda code: (rank.get(code, len(rank)), code))
    main = order[0] if order else ""
    all_open = len(drafts) <= DRAFTS_ALL_OPEN_MAX
    groups = []
    for code in order:
        members = by_language[code]
        statuses = [draft.status for draft in members]
        groups.append(
            DraftGroup(
                language=code,
                drafts=members,
                open=all_open or code == main or any(map(_worked_on, members)),
                in_review=statuses.count(DraftStatus.IN_REVIEW),
                approved=statuses.count(DraftStatus.APPROVED),
                published=statuses.count(DraftStatus.PUBLISHED),
            )
        )
    return groups


@dataclass
class HoldingSuggestion:
    """Why the page suggests a holding statement, and which template would make the draft."""

    negative_last_hour: int
    unanswered: int
    capacity: int
    template: MessageTemplate | None
    open_draft: Draft | None


def holding_suggestion(
    incident: Incident,
    *,
    playbook: Playbook | None,
    language: str = "en",
    now: datetime | None = None,
    drafts: list[Draft] | None = None,
) -> HoldingSuggestion | None:
    """A suggestion when negative mentions are too many to answer one by one: more than
    ``HOLDING_NEGATIVE_PER_HOUR`` in the last hour, or more unanswered than the team (members who can
    triage × ``REPLIES_PER_MEMBER_PER_WINDOW``) can answer in the first-response window. None once a
    holding statement is published or the incident is no longer open."""
    if not incident.is_open:
        return None
    now = now or timezone.now()
    negatives = incident_mentions(incident).filter(sentiment_label=SentimentLabel.NEGATIVE)
    counts = negatives.aggregate(
        last_hour=Count("pk", filter=Q(published_at__gte=now - timedelta(hours=1))),
        unanswered=Count(
            "pk", filter=~Q(Exists(Reply.objects.filter(mention=OuterRef("pk"), incident=incident)))
        ),
    )
    if not counts["unanswered"] and counts["last_hour"] <= HOLDING_NEGATIVE_PER_HOUR:
        return None  # nothing waiting: no need to size the team
    capacity = assignable_members().count() * REPLIES_PER_MEMBER_PER_WINDOW
    if counts["last_hour"] <= HOLDING_NEGATIVE_PER_HOUR and counts["unanswered"] <= capacity:
        return None
    if drafts is None:
        drafts = list(Draft.objects.filter(incident=incident, kind=TemplateKind.HOLDING))
    holding = sorted((d for d in drafts if d.kind == TemplateKind.HOLDING), key=lambda d: -d.pk)
    if any(d.status == DraftStatus.PUBLISHED for d in holding):
        return None
    template = None
    if playbook is not None:
        candidates = list(approved_templates_for(playbook=playbook, kind=TemplateKind.HOLDING))
        template = (
            next((t for t in candidates if t.language == language), None)
            or next((t for t in candidates if t.language == "en"), None)
            or (candidates[0] if candidates else None)
        )
    open_draft = next((d for d in holding if template is None or d.language == template.language), None)
    return HoldingSuggestion(counts["last_hour"], counts["unanswered"], capacity, template, open_draft)


# --- Response queue --------------------------------------------------------------------------


@dataclass
class QueueRow:
    mention: Mention
    replies: list[Reply]
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class QueueFilters:
    """What the queue is narrowed to; the defaults show everything that waits for an answer."""

    language: str = ""
    source_kind: str = ""
    min_reach: int = 0
    answered: str = ""  # "", "answered" or "unanswered"

    @property
    def active(self) -> bool:
        return bool(self.language or self.source_kind or self.min_reach or self.answered)


def queue_condition() -> Q:
    """What makes a mention wait for an answer: negative, or high-risk (at least ``QUEUE_HIGH_RISK``)."""
    return Q(sentiment_label=SentimentLabel.NEGATIVE) | Q(risk__gte=QUEUE_HIGH_RISK)


def queue_mentions(incident: Incident) -> QuerySet[Mention]:
    """Every mention the incident owns that waits for an answer (``queue_condition``), never the
    brand's own posts."""
    return incident_mentions(incident).filter(queue_condition())


def response_queue(
    incident: Incident, *, sort: str = "risk", filters: QueueFilters | None = None
) -> QuerySet[Mention]:
    """The queue, highest risk (or newest) first, each mention with its replies, narrowed by ``filters``."""
    filters = filters or QueueFilters()
    replies = (
        Reply.objects.filter(incident=incident).select_related("replied_by").order_by("replied_at", "id")
    )
    mentions = queue_mentions(incident)
    if filters.language:
        mentions = mentions.filter(language=filters.language)
    if filters.source_kind:
        mentions = mentions.filter(source__kind=filters.source_kind)
    if filters.min_reach:
        mentions = mentions.filter(author_reach__gte=filters.min_reach)
    if filters.answered:
        replied = Exists(Reply.objects.filter(mention=OuterRef("pk"), incident=incident))
        mentions = mentions.filter(replied if filters.answered == "answered" else ~replied)
    return (
        mentions.select_related("source")
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="incident_replies"))
        .order_by(*QUEUE_SORTS.get(sort, QUEUE_SORTS["risk"]))
    )


@dataclass
class QueueCounts:
    """How many mentions wait in the queue, how many nobody has answered, and the languages present."""

    total: int
    unanswered: int
    languages: list[str]


def queue_counts(incident: Incident) -> QueueCounts:
    """The queue's counts and languages (for its filter), in one grouped query."""
    replied = Exists(Reply.objects.filter(mention=OuterRef("pk"), incident=incident))
    rows = list(
        queue_mentions(incident)
        .order_by()
        .values("language")
        .annotate(total=Count("pk"), unanswered=Count("pk", filter=~Q(replied)))
    )
    return QueueCounts(
        total=sum(row["total"] for row in rows),
        unanswered=sum(row["unanswered"] for row in rows),
        languages=sorted(row["language"] for row in rows if row["language"]),
    )


def first_response_due(incident: Incident, mention: Mention) -> datetime:
    """The first-response clock starts when the mention appeared, but not before the incident was
    declared: nobody can be late for a mention posted while no crisis was known."""
    start = max(mention.published_at, incident.detected_at)
    return start + timedelta(minutes=incident.first_response_minutes)


def response_queue_page(
    incident: Incident,
    *,
    page: int | str = 1,
    sort: str = "risk",
    now: datetime | None = None,
    filters: QueueFilters | None = None,
) -> tuple[Page[Mention], list[QueueRow]]:
    now = now or timezone.now()
    paginator = Paginator(response_queue(incident, sort=sort, filters=filters), QUEUE_PAGE_SIZE)
    current = paginator.get_page(page)
    rows = []
    for mention in current.object_list:
        due = first_response_due(incident, mention)
        replies = getattr(mention, "incident_replies", [])
        rows.append(QueueRow(mention, replies, due, overdue=not replies and now > due))
    return current, rows


# --- Evidence --------------------------------------------------------------------------------


def evidence_for(incident: Incident) -> list[Evidence]:
    return list(
        Evidence.objects.filter(incident=incident).select_related("captured_by").order_by("captured_at", "id")
    )


# --- The incident page -----------------------------------------------------------------------


def response_panel_context(
    incident: Incident,
    *,
    can_triage: bool,
    queue_page: int | str = 1,
    queue_sort: str = "risk",
    queue_filters: QueueFilters | None = None,
) -> dict[str, Any]:
    """Context for the ``incidents/panels/*`` includes.

    ``can_triage``: the member may work the incident (the playbook picker and crisis-role
    candidates are shown only then). ``queue_page``/``queue_sort`` page and order the response
    queue; an unknown sort falls back to risk.
    """
    now = timezone.now()
    sort = queue_sort if queue_sort in QUEUE_SORTS else "risk"
    filters = queue_filters or QueueFilters()
    page, rows = response_queue_page(incident, page=queue_page, sort=sort, now=now, filters=filters)
    playbook = incident.playbook if incident.playbook_id else None
    suggested = None if playbook else suggested_playbook(incident)
    languages = [lang for lang in (incident.watch.languages or []) if isinstance(lang, str)]
    evidence = evidence_for(incident)
    drafts = drafts_for(incident)
    return {
        "response_now": now,
        "suggested_playbook": suggested,
        "activatable_playbooks": activatable_playbooks() if playbook is None and can_triage else [],
        "task_groups": tasks_by_phase(incident) if playbook else [],
        "role_assignments": role_assignments(incident) if playbook else [],
        "role_candidates": list(assignable_members()) if playbook and can_triage else [],
        "drafts": drafts,
        "draft_groups": draft_groups(drafts, languages),
        "holding_suggestion": holding_suggestion(
            incident,
            playbook=playbook or suggested,
            language=languages[0] if languages else "en",
            now=now,
            drafts=drafts,
        ),
        "queue_page": page,
        "queue_rows": rows,
        "queue_sort": sort,
        "queue_filters": filters,
        "queue_counts": queue_counts(incident),
        "evidence_list": evidence,
        "evidence_mention_ids": {e.mention_id for e in evidence},
    }
