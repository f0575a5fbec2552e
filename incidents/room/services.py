"""The crisis room's one write: remembering when a member last looked."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from crisisdesk.types import Member
from incidents.models import Incident, IncidentView


@transaction.atomic
def incident_seen(*, incident: Incident, member: Member, at: datetime) -> None:
    """Record that ``member`` opened ``incident`` at ``at``: one upsert on the unique pair, so two
    tabs opening at once leave one row. Not audited: it changes nothing anyone relies on."""
    IncidentView.objects.bulk_create(
        [IncidentView(incident=incident, member=member, seen_at=at)],
        update_conflicts=True,
        unique_fields=["incident", "member"],
        update_fields=["seen_at"],
    )
