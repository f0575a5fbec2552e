"""The status graph: which moves exist, what their buttons say, and which permission each needs.

Plain data and pure functions, so the writes (``services``) and the reads (``selectors``) both
import it without importing each other.
"""

from __future__ import annotations

from crisisdesk.roles import CLOSE_INCIDENTS, TRIAGE_INCIDENTS
from incidents.models import Status

# The allowed graph: from-status -> the statuses it may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DETECTED: (Status.ACKNOWLEDGED,),
    Status.ACKNOWLEDGED: (Status.RESPONDING, Status.RESOLVED),
    Status.RESPONDING: (Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.RESOLVED, Status.RESPONDING),  # relapse
    Status.RESOLVED: (Status.CLOSED, Status.RESPONDING),  # close, or reopen
    Status.CLOSED: (),
}

# The incident fields a move writes (its status and the when/who stamps): audited on every move, and
# read-only in the admin because only a move may change them.
LIFECYCLE_FIELDS: list[str] = [
    "status",
    "acknowledged_at",
    "acknowledged_by",
    "responding_at",
    "monitoring_at",
    "resolved_at",
    "resolved_by",
    "closed_at",
    "closed_by",
]

# Button labels and timeline wording, keyed by (from, to) where the wording depends on both.
ACTION_LABELS: dict[str, str] = {
    Status.ACKNOWLEDGED: "Acknowledge",
    Status.RESPONDING: "Start responding",
    Status.MONITORING: "Move to monitoring",
    Status.RESOLVED: "Resolve",
    Status.CLOSED: "Close",
}


def transition_permission(to_status: str) -> str:
    """The permission a move into ``to_status`` needs: closing is for managers and up."""
    return CLOSE_INCIDENTS if to_status == Status.CLOSED else TRIAGE_INCIDENTS


def transition_label(from_status: str, to_status: str) -> str:
    """The button (and timeline) wording of the move ``from_status`` → ``to_status``."""
    if from_status == Status.RESOLVED and to_status == Status.RESPONDING:
        return "Reopen"
    if from_status == Status.MONITORING and to_status == Status.RESPONDING:
        return "Relapse: back to responding"
    return ACTION_LABELS.get(to_status, to_status)
