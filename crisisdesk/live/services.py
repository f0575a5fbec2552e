"""Writes of the live stream: announcing a change, and a member's presence on a topic."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from crisisdesk.models import LiveEvent, LivePresence
from crisisdesk.types import Member

PRUNE_AFTER = timedelta(days=1)


def live_publish(*, topics: list[str], kind: str, data: dict[str, Any] | None = None) -> None:
    """Announce ``kind`` on each of ``topics``. Call it inside the transaction that made the change:
    the rows commit (and are streamed) with it or not at all. One INSERT, whatever the topic count."""
    LiveEvent.objects.bulk_create(
        [LiveEvent(topic=topic, kind=kind[:40], data=data or {}) for topic in topics]
    )


@transaction.atomic
def live_beat(*, topic: str, member: Member, at: datetime, stale_after: timedelta) -> bool:
    """Mark ``member`` as present on ``topic`` at ``at``. Returns True when they have just arrived
    (no beat within ``stale_after``): the caller then announces them to the others."""
    previous = (
        LivePresence.objects.select_for_update()
        .filter(topic=topic, member=member)
        .values_list("last_beat", flat=True)
        .first()
    )
    LivePresence.objects.bulk_create(
        [LivePresence(topic=topic, member=member, last_beat=at)],
        update_conflicts=True,
        unique_fields=["topic", "member"],
        update_fields=["last_beat"],
    )
    arrived = previous is None or at - previous > stale_after
    if arrived:
        live_publish(topics=[topic], kind="presence", data={"member": member.get_username()})
    return arrived


def live_prune(*, before: datetime) -> int:
    """Delete events older than ``before`` (a stream older than that starts afresh). Returns the count."""
    deleted, _ = LiveEvent.objects.filter(at__lt=before).delete()
    LivePresence.objects.filter(last_beat__lt=before).delete()
    return deleted
