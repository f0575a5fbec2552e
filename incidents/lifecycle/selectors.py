"""Incident reads for the triage list, the incident page and the API. Each keeps its query count flat."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from crisisdesk.links import safe_url
from crisisdesk.roles import TRIAGE_INCIDENTS
from crisisdesk.types import Member
from incidents.lifecycle.timeline import crisis_start_from
from incidents.lifecycle.transitions import TRANSITIONS, transition_label, transition_permission
from incidents.models import OPEN_STATUSES, Incident, Review, Status, TimelineEvent
from monitoring.models import Mention, Signal
from playbooks.models import Phase

CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)
STATUS_FILTERS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES, "all": None}


def incident_mentions(incident: Incident | int) -> QuerySet[Mention]:
    """The mentions an incident owns, as its page, queue and KPIs count them: every mention of its
    watch attached to it (from the crisis start until it resolved), less the brand's own posts (our
    statements, not chatter: they appear on the timeline instead)."""
    pk = incident.pk if isinstance(incident, Incident) else incident
    return Mention.objects.filter(incident_id=pk, is_own=False)


def incident_mention_counts(incident: Incident) -> dict[str, int]:
    """The incident page's counts, in one query: mentions owned, negative ones."""
    return incident_mentions(incident).aggregate(
        total=Count("pk"), negative=Count("pk", filter=Q(sentiment_label="negative"))
    )


TRIAGE_PAGE_SIZE = 50


def incident_list(
    *,
    status: str = "open",
    severity: int | None = None,
    watch_id: int | None = None,
    limit: int | None = 200,
) -> QuerySet[Incident]:
    """Incidents for triage: open ones first, newest first.

    ``status`` is ``open`` (detected … monitoring), ``closed`` (resolved, closed), ``all`` or one
    status value. No counts here: a page of rows gets them from ``with_counts`` (two grouped
    queries over that page), because a correlated COUNT per row made PostgreSQL plan (and JIT-compile)
    two subqueries over every incident before it could cut a deep page.
    """
    qs = (
        Incident.objects.select_related("watch", "owner")
        .annotate(
            open_rank=Case(
                When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("open_rank", "-detected_at", "-id")
    )
    if status in STATUS_FILTERS:
        statuses = STATUS_FILTERS[status]
        if statuses is not None:
            qs = qs.filter(status__in=statuses)
    elif status in Status.values:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if watch_id:
        qs = qs.filter(watch_id=watch_id)
    return qs[:limit] if limit else qs


def with_counts(incidents: Iterable[Incident]) -> list[Incident]:
    """The incidents (one page of a list) with ``signal_count`` and ``mention_count`` set: two
    grouped queries over their ids, however many rows. Mentions count as the incident page counts
    them (``incident_mentions``: the brand's own posts left out)."""
    rows = list(incidents)
    ids = [incident.pk for incident in rows]
    if not ids:
        return rows
    signals = dict(
        Signal.objects.filter(incident_id__in=ids)
        .order_by()
        .values_list("incident_id")
        .annotate(n=Count("pk"))
        .values_list("incident_id", "n")
    )
    mentions = dict(
        Mention.objects.filter(incident_id__in=ids, is_own=False)
        .order_by()
        .values_list("incident_id")
        .annotate(n=Count("pk"))
        .values_list("incident_id", "n")
    )
    for incident in rows:
        incident.signal_count = signals.get(incident.pk, 0)  # type: ignore[attr-defined]
        incident.mention_count = mentions.get(incident.pk, 0)  # type: ignore[attr-defined]
    return rows


def incident_get(pk: int) -> Incident:
    """One incident with everything its header shows; raises Incident.DoesNotExist."""
    return Incident.objects.select_related(
        "watch", "owner", "acknowledged_by", "resolved_by", "closed_by", "scenario", "playbook"
    ).get(pk=pk)


@dataclass
class PhaseGroup:
    phase: str
    label: str
    events: list[TimelineEvent] = field(default_factory=list)


def incident_timeline(incident: Incident) -> list[PhaseGroup]:
    """The timeline in three groups — Pre-crisis, During, Post-crisis — each in time order."""
    groups = {value: PhaseGroup(value, label) for value, label in Phase.choices}
    events = TimelineEvent.objects.filter(incident=incident).select_related("actor").order_by("at", "id")
    for event in events:
        groups.get(event.phase, groups[Phase.DURING]).events.append(event)
    return list(groups.values())


def timeline_events(timeline: list[PhaseGroup]) -> Iterator[TimelineEvent]:
    """Every event of a loaded ``incident_timeline``, for rules over events (``crisis_start_from``)."""
    for group in timeline:
        yield from group.events


def crisis_start(incident: Incident) -> datetime | None:
    """``crisis_start_from`` over the incident's stored pre-crisis events, in one query."""
    events = TimelineEvent.objects.filter(incident=incident, phase=Phase.PRE).only("phase", "at")
    return crisis_start_from(events, incident)


def _names(values: Any) -> list[str]:
    """Top terms/authors arrive as ["x", …], [["x", 3], …] or {"x": 3}: show "x (3)"."""
    if isinstance(values, dict):
        values = list(values.items())
    names: list[str] = []
    for value in values or []:
        if isinstance(value, list | tuple) and value:
            names.append(f"{value[0]} ({value[1]})" if len(value) > 1 else str(value[0]))
        elif isinstance(value, dict):
            name = value.get("term") or value.get("author") or value.get("name") or ""
            count = value.get("count", value.get("mentions"))
            names.append(f"{name} ({count})" if count is not None else str(name))
        else:
            names.append(str(value))
    return names[:10]


def _samples(values: Any) -> list[dict[str, str]]:
    samples = []
    for value in values or []:
        if isinstance(value, dict):
            samples.append(
                {
                    "text": str(value.get("text", "")),
                    "author": str(value.get("author", "")),
                    "url": safe_url(str(value.get("url", ""))),
                }
            )
        else:
            samples.append({"text": str(value), "author": "", "url": ""})
    return samples[:5]


@dataclass
class SignalWhy:
    """What a responder needs first from a signal, normalised from ``signal.summary``."""

    signal: Signal
    top_terms: list[str]
    top_authors: list[str]
    samples: list[dict[str, str]]
    sentiment_mix: dict[str, Any]


def incident_signals(incident: Incident) -> list[SignalWhy]:
    signals = Signal.objects.filter(incident=incident).select_related("rule").order_by("-detected_at", "-id")
    result = []
    for signal in signals:
        summary = signal.summary if isinstance(signal.summary, dict) else {}
        mix = summary.get("sentiment_mix") or summary.get("sentiment") or {}
        result.append(
            SignalWhy(
                signal=signal,
                top_terms=_names(summary.get("top_terms") or summary.get("terms")),
                top_authors=_names(summary.get("top_authors") or summary.get("authors")),
                samples=_samples(summary.get("samples") or summary.get("sample_mentions")),
                sentiment_mix=mix if isinstance(mix, dict) else {},
            )
        )
    return result


def incident_recent_mentions(incident: Incident, *, limit: int = 20) -> list[Mention]:
    return list(incident_mentions(incident).select_related("source").order_by("-published_at", "-id")[:limit])


def allowed_transitions(incident: Incident, user: Member) -> list[tuple[str, str]]:
    """(to_status, button label) for the moves ``user`` may make from the incident's status now."""
    return [
        (to, transition_label(incident.status, to))
        for to in TRANSITIONS.get(incident.status, ())
        if user.has_perm(transition_permission(to))
    ]


def closing_blockers(incident: Incident) -> list[str]:
    """Reasons this incident may not be closed yet, in words for the person trying to close it.

    The one place closing rules live; an empty list means closing is allowed.
    """
    blockers: list[str] = []
    # Closing requires a post-crisis review: the lessons must be written while they are fresh.
    if not Review.objects.filter(incident_id=incident.pk).exists():
        blockers.append("Write the post-crisis review first (closing requires one).")
    return blockers


def assignable_members() -> QuerySet[Member]:
    """Active members who may own an incident (their role can triage)."""
    User = get_user_model()
    app_label, codename = TRIAGE_INCIDENTS.split(".")
    perm = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    return (
        User.objects.filter(Q(is_active=True) & (perm | Q(is_superuser=True))).distinct().order_by("username")
    )
