"""Detection's reads: a watch's bucket series, its loud negative voices, the mentions behind a
breach, and the work a lost message may have left behind (for the sweeper)."""

from __future__ import annotations

from datetime import datetime
from itertools import islice

from monitoring.detection.evaluators import Breach, BucketPoint, HighReachLookup, Series, WindowMention
from monitoring.intake.buckets import COUNT_FIELDS
from monitoring.models import Bucket, Mention, MentionState, Signal

LINKED_MENTIONS_MAX = 500

_BUCKET_FIELDS = ("start", *COUNT_FIELDS)


def series_load(*, watch_id: int, start: datetime, end: datetime) -> Series:
    rows = Bucket.objects.filter(watch_id=watch_id, start__gte=start, start__lt=end).values(*_BUCKET_FIELDS)
    return Series(BucketPoint(**row) for row in rows)


def high_reach_lookup(watch_id: int) -> HighReachLookup:
    def lookup(start: datetime, end: datetime, min_reach: int) -> int:
        return Mention.objects.filter(
            watch_id=watch_id,
            state=MentionState.SCORED,
            is_own=False,
            sentiment_label="negative",
            author_reach__gte=min_reach,
            published_at__gte=start,
            published_at__lt=end,
        ).count()

    return lookup


def window_mentions(watch_id: int, breach: Breach) -> list[WindowMention]:
    """The scored mentions of the breach's window that it is about, riskiest first (at most
    ``LINKED_MENTIONS_MAX``: they are linked to the signal and summarised)."""
    rows = (
        Mention.objects.filter(
            watch_id=watch_id,
            state=MentionState.SCORED,
            is_own=False,
            published_at__gte=breach.window_start,
            published_at__lt=breach.window_end,
        )
        .order_by("-risk", "id")
        .values_list(*WindowMention._fields)[: LINKED_MENTIONS_MAX * 4]
    )
    kept = (mention for mention in map(WindowMention._make, rows) if breach.keep(mention))
    return list(islice(kept, LINKED_MENTIONS_MAX))


def unescalated_signal_ids(*, before: datetime, limit: int) -> list[int]:
    """Signals detected before ``before`` that no escalation has claimed yet, oldest first."""
    return list(
        Signal.objects.filter(processed_at__isnull=True, detected_at__lt=before)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def watches_counted_since(*, since: datetime) -> list[int]:
    """Watches whose buckets from ``since`` on hold counts: detection may have something to judge."""
    return list(
        Bucket.objects.filter(start__gte=since)
        .values_list("watch_id", flat=True)
        .distinct()
        .order_by("watch_id")
    )
