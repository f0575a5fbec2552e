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
