"""The topics a page may follow, and the permission each needs."""

from __future__ import annotations

import re

from crisisdesk.roles import VIEW_INCIDENTS

INCIDENTS = "incidents"  # the triage list
OVERVIEW = "overview"  # the home page
_INCIDENT = re.compile(r"^incident:[1-9][0-9]{0,17}$")
TOPICS_MAX = 4


def incident_topic(incident_id: int) -> str:
    return f"incident:{incident_id}"


def topic_permission(topic: str) -> str | None:
    """The permission reading ``topic`` needs; None for a topic that does not exist."""
    if topic in (INCIDENTS, OVERVIEW) or _INCIDENT.match(topic):
        return VIEW_INCIDENTS
    return None
