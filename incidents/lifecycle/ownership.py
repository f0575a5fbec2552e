"""The open incident owns its watch's mentions: every mention of the watch published from the
crisis start (``timeline.crisis_start_from``, stored as ``Incident.owns_mentions_from``) until the
incident is resolved.

Ingest attaches arriving mentions in its INSERT (``monitoring.intake.ingest``); this module attaches
what was already stored when an incident opens (or reopens), in one UPDATE, and holds the lock that
keeps the two from missing each other: ``lock_watch`` takes the watch row ``FOR UPDATE``, which
waits for every ingest holding it ``FOR KEY SHARE`` to commit (so the UPDATE sees their rows), and
makes every ingest starting meanwhile wait for this transaction (so it sees the incident).
"""

from __future__ import annotations

from datetime import datetime

from incidents.lifecycle.selectors import crisis_start
from incidents.lifecycle.timeline import own_statements_add
from incidents.models import Incident
from monitoring.models import Mention, Watch


def lock_watch(watch_id: int) -> None:
    """Lock the watch row against ingests deciding which incident their mentions belong to."""
    list(Watch.objects.select_for_update().filter(pk=watch_id).values_list("pk"))


def ownership_start(incident: Incident) -> datetime:
    """From when ``incident`` owns its watch's mentions: the crisis start, or its detection when it
    has no build-up (opened by hand)."""
    return crisis_start(incident) or incident.detected_at


def attach_watch_mentions(
    *, incident: Incident, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Attach every unattached mention of the incident's watch published at or after ``since``
    (default ``incident.owns_mentions_from``) and, for a resolved incident, before ``until``,
    in one UPDATE, and record attached own posts as our
    public statements. Call with the watch locked (``lock_watch``), inside the transaction that
    opened or reopened the incident. Returns the number of mentions attached."""
    start = since or incident.owns_mentions_from or incident.detected_at
    mentions = Mention.objects.filter(
        watch_id=incident.watch_id, incident__isnull=True, published_at__gte=start
    )
    if until is not None:
        mentions = mentions.filter(published_at__lt=until)
    attached = mentions.update(incident=incident)
    if attached:
        own = Mention.objects.filter(incident=incident, is_own=True).values_list("pk", flat=True)
        own_statements_add(mention_ids=list(own))
    return attached
