"""Escalation tiers: an incident nobody acknowledged in time is told to the next tier of channels.

Runs on beat (``incidents.tasks.escalate_unacknowledged``). Not to be confused with *opening*
(``incidents.lifecycle.opening``), which turns a signal into an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record
from incidents.lifecycle.timeline import timeline_add
from incidents.models import Incident, Status, TimelineEvent
from incidents.notifications.channels import DEFAULT_ESCALATE_AFTER_MINUTES
from incidents.notifications.routing import channels_for
from incidents.signals import incident_event


@dataclass(frozen=True)
class EscalationStep:
    tier: int
    after_minutes: int


def next_escalation_step(*, incident: Incident) -> EscalationStep | None:
    """The next tier above the incident's that has a channel routing it, and after how many
    minutes unacknowledged it is reached (the smallest ``escalate_after_minutes`` among its channels)."""
    candidates = [
        c for c in channels_for(incident=incident, max_tier=10_000) if c.tier > incident.escalation_tier
    ]
    if not candidates:
        return None
    tier = min(c.tier for c in candidates)
    minutes = min(
        int((c.config or {}).get("escalate_after_minutes") or DEFAULT_ESCALATE_AFTER_MINUTES)
        for c in candidates
        if c.tier == tier
    )
    return EscalationStep(tier=tier, after_minutes=minutes)


def _tier_reached_at(incident: Incident) -> datetime:
    """When the incident reached its current tier: the last escalation, else detection."""
    last = (
        TimelineEvent.objects.filter(incident=incident, kind="escalated")
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return max(last, incident.detected_at) if last else incident.detected_at


@transaction.atomic
def incident_escalate_if_unacknowledged(*, incident_id: int, now: datetime | None = None) -> int | None:
    """Raise an incident still ``detected`` to the next tier once that tier's delay has passed
    since it reached its current tier. Returns the new tier, or None when nothing was due.

    The conditional UPDATE (status and current tier unchanged) makes it happen once per tier even
    when two beat runs race; the timeline event, audit row and notifications share its transaction.
    """
    now = now or timezone.now()
    incident = Incident.objects.select_related("watch").filter(pk=incident_id, status=Status.DETECTED).first()
    if incident is None:
        return None
    step = next_escalation_step(incident=incident)
    if step is None:
        return None
    reached_at = _tier_reached_at(incident)
    if now < reached_at + timedelta(minutes=step.after_minutes):
        return None
    previous = incident.escalation_tier
    updated = Incident.objects.filter(
        pk=incident.pk, status=Status.DETECTED, escalation_tier=previous
    ).update(escalation_tier=step.tier, updated_at=now)
    if not updated:
        return None
    incident.escalation_tier = step.tier
    waited = int((now - reached_at).total_seconds() // 60)
    timeline_add(
        incident=incident,
        kind="escalated",
        text=f"Not acknowledged after {waited} minutes: escalated to notification tier {step.tier}.",
        at=now,
        data={"tier": step.tier, "from_tier": previous, "after_minutes": step.after_minutes},
    )
    audit_record(
        actor=None,
        action="incident.escalate",
        target=incident,
        before={"escalation_tier": previous},
        after={"escalation_tier": step.tier},
    )
    incident_event.send(sender=Incident, incident=incident, event=f"escalated:{step.tier}", actor=None)
    return step.tier


def incidents_awaiting_acknowledgement_ids() -> list[int]:
    """Incidents still ``detected``: the only ones escalation looks at."""
    return list(
        Incident.objects.filter(status=Status.DETECTED).order_by("detected_at").values_list("id", flat=True)
    )
