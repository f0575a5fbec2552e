"""Incident changes reach open pages: every ``incident_event`` (sent inside the changing
transaction) is written to the live outbox for the incident, the triage list and the overview."""

from __future__ import annotations

from typing import Any

from crisisdesk.live.services import live_publish
from crisisdesk.live.topics import INCIDENTS, OVERVIEW, incident_topic
from incidents.models import Incident
from incidents.signals import incident_event


def _announce(
    sender: type[Incident], *, incident: Incident, event: str, actor: Any = None, **kwargs: Any
) -> None:
    live_publish(
        topics=[incident_topic(incident.pk), INCIDENTS, OVERVIEW],
        kind=event,
        data={"actor": actor.get_username() if actor is not None else None},
    )


incident_event.connect(_announce, sender=Incident, dispatch_uid="incidents.live.announce")
