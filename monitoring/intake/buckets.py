"""Per-watch 5-minute counters. Detection reads these instead of scanning mentions.

They live in intake, not detection, because counting is part of storing: a mention enters its
bucket in the transaction that stores it scored (``monitoring.intake.ingest``, or the rescoring
stage for one stored unscored), so it is counted exactly once. Detection only reads them.

Counts are *added* set-based with one ``INSERT … ON CONFLICT (watch_id, start) DO UPDATE SET
volume = monitoring_bucket.volume + excluded.volume, …`` per chunk: an increment that two workers
may run at once for the same bucket, which ``bulk_create(update_conflicts=…)`` cannot express (it
overwrites). The same statement runs on SQLite (≥ 3.24) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from django.db import connection

from monitoring.models import Bucket, Mention, MentionState

WIDTH = Bucket.WIDTH
_WIDTH_SECONDS = int(WIDTH.total_seconds())
# Rows per statement: 9 parameters each stays far below SQLite's variable limit.
CHUNK = 400


def bucket_start(moment: datetime) -> datetime:
    """The start of the 5-minute bucket holding ``moment`` (aware UTC)."""
    moment = moment.astimezone(UTC)
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % _WIDTH_SECONDS, tz=UTC)


@dataclass
class BucketCounts:
    """What a bucket counts: ingest adds these, detection reads them (the ``Bucket`` columns)."""

    volume: int = 0
    negative: int = 0
    positive: int = 0
    reach: int = 0
    risk_sum: float = 0.0
    risk_max: float = 0.0
    crisis_term_hits: int = 0


COUNT_FIELDS = tuple(f.name for f in fields(BucketCounts))
_COLUMNS = ", ".join(("watch_id", "start", *COUNT_FIELDS))
# Every count adds up across batches except the maximum, which keeps the larger.
_SUMMED = tuple(name for name in COUNT_FIELDS if name != "risk_max")


@dataclass(kw_only=True)
class BucketDelta(BucketCounts):
    """What one batch adds to one (watch, start) bucket."""

    watch_id: int
    start: datetime


# A mention as ``deltas_for`` counts it: (watch_id, published_at, label, reach, risk, has_crisis_terms).
BucketRow = tuple[int, datetime, str, int, float | None, bool]


def deltas_for(rows: Iterable[BucketRow]) -> list[BucketDelta]:
    """Aggregate ``(watch_id, published_at, label, reach, risk, has_crisis_terms)`` into deltas.

    Runs once per stored mention, so rows are grouped on integer bucket keys and each bucket's
    datetime is built once (``bucket_start`` per row cost more than the rest of the loop).
    """
    deltas: dict[tuple[int, int], BucketDelta] = {}
    for watch_id, published_at, label, reach, risk, has_terms in rows:
        seconds = int(published_at.timestamp())
        key = (watch_id, seconds - seconds % _WIDTH_SECONDS)
        delta = deltas.get(key)
        if delta is None:
            delta = deltas[key] = BucketDelta(watch_id=watch_id, start=datetime.fromtimestamp(key[1], tz=UTC))
        delta.volume += 1
        if label == "negative":
            delta.negative += 1
        elif label == "positive":
            delta.positive += 1
        delta.reach += int(reach or 0)
        risk = float(risk or 0.0)
        delta.risk_sum += risk
        if risk > delta.risk_max:
            delta.risk_max = risk
        if has_terms:
            delta.crisis_term_hits += 1
    # A fixed order keeps two concurrent upserts from locking the same rows in opposite orders.
    return sorted(deltas.values(), key=lambda d: (d.watch_id, d.start))


def buckets_add(*, deltas: list[BucketDelta]) -> int:
    """Add ``deltas`` to their buckets (creating missing ones). Returns the number of buckets touched.

    Call inside the transaction that marks the counted mentions as scored, so a mention is counted
    exactly when it leaves the ``new`` state.
    """
    if not deltas:
        return 0
    table = connection.ops.quote_name(Bucket._meta.db_table)
    update = _add_on_conflict(table, "GREATEST" if connection.vendor == "postgresql" else "MAX")
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for offset in range(0, len(deltas), CHUNK):
            chunk = deltas[offset : offset + CHUNK]
            row = "(" + ", ".join(["%s"] * (2 + len(COUNT_FIELDS))) + ")"
            values = ", ".join([row] * len(chunk))
            params: list[int | float | str | None] = []
            for d in chunk:
                params.extend([d.watch_id, adapt(d.start), *(getattr(d, name) for name in COUNT_FIELDS)])
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}) VALUES {values} "  # noqa: S608 - names are ours
                f"ON CONFLICT (watch_id, start) DO UPDATE SET {update}",
                params,
            )
    return len(deltas)


def _add_on_conflict(table: str, greatest: str) -> str:
    """The ``DO UPDATE SET`` of an upsert that adds to a bucket instead of overwriting it."""
    return ", ".join(
        [f"{name} = {table}.{name} + excluded.{name}" for name in _SUMMED]
        + [f"risk_max = {greatest}({table}.risk_max, excluded.risk_max)"]
    )


def _bucket_sql() -> str:
    mention = Mention._meta.db_table
    bucket = Bucket._meta.db_table
    update = _add_on_conflict(bucket, "GREATEST")
    return (
        f"INSERT INTO {bucket} ({_COLUMNS}) "  # noqa: S608 - names are ours
        f"SELECT watch_id, date_bin(%s::interval, published_at, TIMESTAMPTZ 'epoch') AS start, count(*), "
        "count(*) FILTER (WHERE sentiment_label = 'negative'), count(*) FILTER (WHERE sentiment_label = 'positive'), "
        "coalesce(sum(author_reach), 0)::bigint, coalesce(sum(risk), 0), coalesce(max(risk), 0), "
        "count(*) FILTER (WHERE crisis_terms <> '[]'::jsonb) "
        f"FROM {mention} WHERE id = ANY(%s) AND state = %s AND NOT is_own GROUP BY 1, 2 ORDER BY 1, 2 "
        f"ON CONFLICT (watch_id, start) DO UPDATE SET {update}"
    )


def buckets_add_mentions(mention_ids: list[int]) -> None:
    """Count the scored mentions among ``mention_ids`` into their buckets; the brand's own posts
    (``is_own``) are never counted: they are our statements, not chatter.

    For ingest, which has just stored them: on PostgreSQL the database reads and aggregates the
    rows itself in one statement (the worker's Python thread is the pipeline's bottleneck, the
    database has cycles to spare); elsewhere the rows are read back and go through ``deltas_for``.
    Same transaction rule as ``buckets_add``; rows are upserted in (watch, start) order.
    """
    if not mention_ids:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # psycopg2 sends the timedelta as an interval; django-stubs' parameter type leaves timedelta out.
            cursor.execute(_bucket_sql(), [WIDTH, mention_ids, MentionState.SCORED])  # type: ignore[list-item]
        return
    rows: list[BucketRow] = []
    for offset in range(0, len(mention_ids), CHUNK):
        rows.extend(
            (watch_id, published_at, label, reach, risk, bool(terms))
            for watch_id, published_at, label, reach, risk, terms in Mention.objects.filter(
                pk__in=mention_ids[offset : offset + CHUNK], state=MentionState.SCORED, is_own=False
            ).values_list(
                "watch_id", "published_at", "sentiment_label", "author_reach", "risk", "crisis_terms"
            )
        )
    buckets_add(deltas=deltas_for(rows))


def window_bounds(now: datetime, window_minutes: int) -> tuple[datetime, datetime]:
    """``(first bucket start, end)`` of the window of ``window_minutes`` that ends in ``now``'s bucket."""
    current = bucket_start(now)
    n = max(1, window_minutes // 5)
    return current - WIDTH * (n - 1), current + WIDTH


def bucket_range(start: datetime, end: datetime) -> Iterable[datetime]:
    """Bucket starts from ``start`` (inclusive) to ``end`` (exclusive)."""
    moment = bucket_start(start)
    while moment < end:
        yield moment
        moment += WIDTH
