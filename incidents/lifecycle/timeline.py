"""The incident timeline: writing it (inside the transaction of the change being recorded) and the
rules that read its phases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from crisisdesk.types import Member
from incidents.models import Incident, TimelineEvent
from monitoring.models import Mention, Signal
from playbooks.models import Phase

# The kind of a timeline event recording a post by one of the watch's own accounts.
OWN_STATEMENT = "own_statement"


def phase_at(incident: Incident, at: datetime) -> str:
    """The phase a moment belongs to: before detection is pre-crisis, after resolution post-crisis."""
    if at < incident.detected_at:
        return "pre"
    if incident.resolved_at is not None and at >= incident.resolved_at:
        return "post"
    return "during"


def timeline_add(
    *,
    incident: Incident,
    kind: str,
    text: str,
    actor: Member | None = None,
    at: datetime | None = None,
    phase: str | None = None,
    mention: Mention | None = None,
    signal: Signal | None = None,
    links: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Append one event; the phase follows from ``at`` unless given. ``actor=None``: the system."""
    at = at or timezone.now()
    return TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        text=text,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=at,
        phase=phase or phase_at(incident, at),
        mention=mention,
        signal=signal,
        links=links or [],
        data=data or {},
    )


def crisis_start_from(events: Iterable[TimelineEvent], incident: Incident) -> datetime | None:
    """When the crisis began: the earliest pre-crisis event among ``events``, or the incident's
    recorded first signal when that is earlier; None when neither exists (opened by hand).

    The one definition of the crisis start. The review's "time to detect" is measured from it and
    the incident page and the review exports show it, whether the caller queried the events
    (``lifecycle.selectors.crisis_start``) or already holds the loaded timeline.
    """
    candidates = [event.at for event in events if event.phase == Phase.PRE]
    if incident.first_signal_at is not None:
        candidates.append(incident.first_signal_at)
    return min(candidates, default=None)


def _short(text: str, limit: int = 280) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def own_statements_add(*, mention_ids: Iterable[int]) -> int:
    """Record each attached own post (``Mention.is_own``) among ``mention_ids`` as our public
    statement on its incident's timeline, at the moment it was published. Idempotent: a post
    already recorded on its incident is skipped. Returns the number of events written.

    Called in the transaction that attached the posts (ingest, an incident opening, the backfill).
    """
    ids = list(mention_ids)
    if not ids:
        return 0
    mentions = list(
        Mention.objects.filter(pk__in=ids, is_own=True, incident__isnull=False)
        .select_related("incident")
        .order_by("published_at", "id")
    )
    if not mentions:
        return 0
    recorded = set(
        TimelineEvent.objects.filter(kind=OWN_STATEMENT, mention_id__in=[m.pk for m in mentions]).values_list(
            "mention_id", "incident_id"
        )
    )
    written = 0
    for mention in mentions:
        incident = mention.incident
        if incident is None or (mention.pk, incident.pk) in recorded:
            continue
        timeline_add(
            incident=incident,
            kind=OWN_STATEMENT,
            at=mention.published_at,
            mention=mention,
            text=f"Our public statement, by {mention.author}: {_short(mention.text)}",
            links=[mention.url] if mention.url else None,
        )
        written += 1
    return written
