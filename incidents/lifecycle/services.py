"""Incident writes: status transitions, severity changes and ownership.

Every change here locks the incident row (``select_for_update``), re-checks the rules against the
locked state, and writes the incident fields, a timeline event and an audit row in one
transaction, then sends ``incident_event`` (receivers defer outside effects to on_commit). Two
responders clicking "Acknowledge" at once therefore produce one acknowledgement and one clear
"already acknowledged" refusal.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisdesk.audit.services import audited_update
from crisisdesk.errors import Refusal
from crisisdesk.roles import TRIAGE_INCIDENTS
from crisisdesk.types import Member
from incidents.lifecycle.ownership import attach_watch_mentions, lock_watch
from incidents.lifecycle.selectors import closing_blockers
from incidents.lifecycle.timeline import timeline_add
from incidents.lifecycle.transitions import (
    LIFECYCLE_FIELDS,
    TRANSITIONS,
    transition_label,
    transition_permission,
)
from incidents.models import Incident, Status
from incidents.signals import incident_event
from monitoring.models import Severity


class TransitionError(Refusal):
    """A change the rules refuse in the incident's current state (shown to users; 409 in the API,
    whose answer names the incident's ``status`` when the move was refused)."""

    code = "transition_refused"


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _refresh_caller_copy(incident: Incident, locked: Incident) -> None:
    """Keep the caller's instance in step with what was saved."""
    for field in incident._meta.concrete_fields:
        setattr(incident, field.attname, getattr(locked, field.attname))


@transaction.atomic
def incident_transition(*, incident: Incident, to_status: str, by: Member, note: str = "") -> Incident:
    """Move ``incident`` to ``to_status`` if the graph, the role and the locked state allow it.

    Raises ``PermissionDenied`` for a role that may not make this move and ``TransitionError``
    for a move the current state does not allow (including one a colleague just made).
    """
    if to_status not in Status.values:
        raise TransitionError(f"Unknown status “{to_status}”.", status=incident.status)
    if not by.has_perm(transition_permission(to_status)):
        raise PermissionDenied(f"Your role may not move an incident to {Status(to_status).label.lower()}.")

    locked = _lock(incident)
    from_status = locked.status
    if to_status == Status.RESOLVED or from_status == Status.RESOLVED:
        # Resolving stops ingest attaching mentions to this incident, reopening starts it again:
        # wait for in-flight ingests of the watch so none decides against the old state.
        lock_watch(locked.watch_id)
    if from_status == to_status:
        raise TransitionError(
            f"This incident is already {locked.get_status_display().lower()}.", status=from_status
        )
    if to_status not in TRANSITIONS[from_status]:
        raise TransitionError(
            f"An incident that is {locked.get_status_display().lower()} cannot be moved to "
            f"{Status(to_status).label.lower()}.",
            status=from_status,
        )
    if to_status == Status.CLOSED:
        blockers = closing_blockers(locked)
        if blockers:
            raise TransitionError(
                "This incident cannot be closed yet: " + " ".join(blockers), status=from_status
            )

    now = timezone.now()
    changes: dict[str, Any] = {"status": to_status}
    if to_status == Status.ACKNOWLEDGED:
        changes.update(acknowledged_at=now, acknowledged_by=by)
    elif to_status == Status.RESPONDING:
        if from_status == Status.RESOLVED:
            # Reopened: the crisis is back on, so later events are "during" again.
            changes.update(resolved_at=None, resolved_by=None)
        changes["responding_at"] = locked.responding_at or now
    elif to_status == Status.MONITORING:
        changes["monitoring_at"] = now
    elif to_status == Status.RESOLVED:
        changes.update(resolved_at=now, resolved_by=by)
    elif to_status == Status.CLOSED:
        changes.update(closed_at=now, closed_by=by)

    try:
        # A savepoint, so a reopen refused by "one open incident per watch" leaves the outer
        # transaction usable for the caller's error handling.
        with transaction.atomic():
            audited_update(
                instance=locked,
                by=by,
                action=f"incident.status.{to_status}",
                changes=changes,
                audit_fields=LIFECYCLE_FIELDS,
                extra_after={"note": note},
            )
    except IntegrityError as exc:
        raise TransitionError(
            "Another incident is already open for this watch; work that one instead of reopening this.",
            status=from_status,
        ) from exc

    if from_status == Status.RESOLVED and to_status == Status.RESPONDING:
        # Reopened: it owns its watch's mentions again, including those stored while it was resolved.
        attach_watch_mentions(incident=locked)

    label = transition_label(from_status, to_status)
    text = f"{label}: {Status(from_status).label} → {Status(to_status).label}"
    if note:
        text = f"{text}. {note}"
    timeline_add(
        incident=locked,
        kind=f"status:{to_status}",
        text=text,
        actor=by,
        at=now,
        data={"from": from_status, "to": to_status, "note": note},
    )
    event = "acknowledged" if to_status == Status.ACKNOWLEDGED else f"status:{to_status}"
    incident_event.send(sender=Incident, incident=locked, event=event, actor=by)
    _refresh_caller_copy(incident, locked)
    return incident


def incident_acknowledge(*, incident: Incident, by: Member) -> Incident:
    """The first human response: someone has seen it and is on it."""
    return incident_transition(incident=incident, to_status=Status.ACKNOWLEDGED, by=by)


def incident_resolve(*, incident: Incident, by: Member, note: str = "") -> Incident:
    return incident_transition(incident=incident, to_status=Status.RESOLVED, by=by, note=note)


@transaction.atomic
def incident_change_severity(*, incident: Incident, severity: int, reason: str, by: Member) -> Incident:
    """Raise or lower the severity; the reason is required because others will ask why."""
    if not by.has_perm(TRIAGE_INCIDENTS):
        raise PermissionDenied("Your role may not change the severity.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the severity changes."})
    try:
        severity = int(severity)
    except (TypeError, ValueError):
        raise ValidationError({"severity": "Choose a severity from SEV1 to SEV4."}) from None
    if severity not in Severity.values:
        raise ValidationError({"severity": "Choose a severity from SEV1 to SEV4."})

    locked = _lock(incident)
    if locked.status == Status.CLOSED:
        raise TransitionError("A closed incident's severity cannot change.", status=locked.status)
    if locked.severity == severity:
        raise TransitionError(f"The severity is already SEV{severity}.", status=locked.status)
    old = locked.severity
    direction = "raised" if severity < old else "lowered"
    audited_update(
        instance=locked,
        by=by,
        action="incident.severity",
        changes={"severity": severity},
        extra_after={"reason": reason},
    )
    timeline_add(
        incident=locked,
        kind="severity",
        actor=by,
        text=f"Severity {direction} from SEV{old} to SEV{severity}: {reason}",
        data={"from": old, "to": severity, "reason": reason},
    )
    incident_event.send(sender=Incident, incident=locked, event=f"severity:{severity}", actor=by)
    _refresh_caller_copy(incident, locked)
    return incident


@transaction.atomic
def incident_assign_owner(*, incident: Incident, owner: Member | None, by: Member) -> Incident:
    """Make ``owner`` (an active member who may triage) the incident's owner; None clears it."""
    if not by.has_perm(TRIAGE_INCIDENTS):
        raise PermissionDenied("Your role may not assign incidents.")
    if owner is not None and not (owner.is_active and owner.has_perm(TRIAGE_INCIDENTS)):
        raise ValidationError({"owner": "The owner must be an active responder, manager or admin."})

    locked = _lock(incident)
    if locked.status == Status.CLOSED:
        raise TransitionError("A closed incident cannot be reassigned.", status=locked.status)
    if locked.owner_id == (owner.pk if owner else None):
        raise TransitionError(
            "That member already owns this incident." if owner else "Nobody owns it already.",
            status=locked.status,
        )
    audited_update(instance=locked, by=by, action="incident.owner", changes={"owner": owner})
    text = f"Owner set to {owner.get_username()}" if owner else "Owner cleared"
    timeline_add(
        incident=locked, kind="owner", text=text, actor=by, data={"owner": owner.pk if owner else None}
    )
    incident_event.send(sender=Incident, incident=locked, event="owner", actor=by)
    _refresh_caller_copy(incident, locked)
    return incident
