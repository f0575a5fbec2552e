"""Reads of the live stream."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max

from crisisdesk.models import LiveEvent, LivePresence

BATCH = 200


def live_events_after(*, topics: list[str], after: int, limit: int = BATCH) -> list[LiveEvent]:
    """Events on ``topics`` with an id above ``after``, oldest first (the (topic, id) index)."""
    return list(LiveEvent.objects.filter(topic__in=topics, pk__gt=after).order_by("pk")[:limit])


def live_latest_id() -> int:
    """Where a fresh stream starts: after everything already written."""
    return LiveEvent.objects.aggregate(latest=Max("pk"))["latest"] or 0


def live_present(*, topic: str, since: datetime) -> list[str]:
    """Usernames with a page of ``topic`` open (a beat at or after ``since``), by name."""
    return list(
        LivePresence.objects.filter(topic=topic, last_beat__gte=since)
        .order_by("member__username")
        .values_list("member__username", flat=True)
    )
