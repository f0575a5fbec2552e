"""Backfill for incidents that opened before they owned their watch's mentions."""

from __future__ import annotations

from django.db import transaction

from incidents.lifecycle.ownership import attach_watch_mentions, lock_watch, ownership_start
from incidents.models import OPEN_STATUSES, Incident


@transaction.atomic
def incident_mentions_backfill(*, incident: Incident) -> int:
    """Store the incident's crisis start and attach its watch's mentions from then until it was
    resolved (or until now, if still open). Idempotent: attached mentions are not touched again
    and own statements already on the timeline are not repeated. Returns the mentions attached."""
    lock_watch(incident.watch_id)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    since = ownership_start(locked)
    if locked.owns_mentions_from != since:
        Incident.objects.filter(pk=locked.pk).update(owns_mentions_from=since)
        locked.owns_mentions_from = since
    if locked.status in OPEN_STATUSES:
        return attach_watch_mentions(incident=locked, since=since)
    until = locked.resolved_at or locked.closed_at
    return attach_watch_mentions(incident=locked, since=since, until=until)
