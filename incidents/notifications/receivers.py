"""The ``incident_event`` receiver: turns incident changes into notification deliveries."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from crisisdesk.types import Member
from incidents.models import Incident
from incidents.notifications.routing import notify_incident_event
from incidents.signals import incident_event


@receiver(incident_event, dispatch_uid="incidents.notifications.on_incident_event")
def on_incident_event(
    sender: type[Incident], *, incident: Incident, event: str, actor: Member | None = None, **kwargs: Any
) -> None:
    """Runs inside the transaction that changed the incident: the delivery rows commit (or roll
    back) with the change, and sending waits for the commit."""
    notify_incident_event(incident=incident, event=event)
