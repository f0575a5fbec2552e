"""Writing the incident timeline. Call inside the transaction of the change being recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from incidents.models import Incident, TimelineEvent


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
    actor: Any = None,
    at: datetime | None = None,
    phase: str | None = None,
    mention: Any = None,
    signal: Any = None,
    links: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Append one event; the phase follows from ``at`` unless given."""
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
