"""Rescoring: the fallback stage for mentions stored unscored.

Ingest scores mentions as it stores them (``monitoring.intake.ingest``). A mention is stored ``new``
only when the scorer failed on its chunk; ``score_new_mentions`` (nudged after that commit and by
the sweeper) scores those: ``new`` → scored → 5-minute buckets, in one transaction per batch.

A batch is claimed atomically so two workers never score (and count) the same mention: on
PostgreSQL the ``new`` rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` (a second worker
takes the next rows instead of waiting); on SQLite the settings open every transaction as
``BEGIN IMMEDIATE``, which serialises writers, so the second worker sees the rows already scored.
The mentions leave ``new`` and enter their buckets in the same commit: counted exactly once.
Scoring overlaps with writing (``monitoring.intake.overlap``), as in ingest.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from monitoring import scoring
from monitoring.intake import overlap
from monitoring.intake.buckets import BucketRow, buckets_add, deltas_for
from monitoring.models import Mention, MentionState
from monitoring.scoring.selectors import scenario_terms_load

DEFAULT_BATCH = 500
# What scoring needs of a claimed mention, as plain tuples (no model instances on the hot path).
# ``CLAIM_FIELDS`` of one claimed mention, and the row ``_write_scores`` sets for it:
# (id, language, sentiment, label, risk, crisis_terms, scenario_hint).
Claimed = tuple[int, int, str, str, bool, int, int, datetime, bool]
ScoreRow = tuple[int, str, float, str, float, list[str], str]
CLAIM_FIELDS = (
    "id",
    "watch_id",
    "text",
    "language",
    "language_from_source",
    "author_reach",
    "engagement",
    "published_at",
    "is_own",
)


def _claim_new(limit: int) -> list[Claimed]:
    return list(
        Mention.objects.filter(state=MentionState.NEW)
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(*CLAIM_FIELDS)[:limit]
    )


_PG_UPDATE = (
    f"UPDATE {Mention._meta.db_table} AS m SET language = v.l, sentiment = v.s, "  # noqa: S608 - names are ours
    "sentiment_label = v.b, risk = v.r, crisis_terms = v.t, scenario_hint = v.h, state = %s, scored_at = %s "
    "FROM json_to_recordset(%s::json) AS v(i bigint, l text, s double precision, b text, "
    "r double precision, t jsonb, h text) WHERE m.id = v.i"
)


def _write_scores(rows: list[ScoreRow], scored_at: datetime) -> None:
    """Set the scores of claimed rows: on PostgreSQL one ``UPDATE … FROM json_to_recordset`` per
    chunk (one parameter, parsed once by the server), elsewhere one ``executemany``.

    ``rows`` are ``(id, language, sentiment, label, risk, crisis_terms list, scenario_hint)``.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for offset in range(0, len(rows), 2000):
                payload = json.dumps(
                    [
                        {"i": pk, "l": lang, "s": sent, "b": label, "r": risk, "t": terms, "h": hint}
                        for pk, lang, sent, label, risk, terms, hint in rows[offset : offset + 2000]
                    ],
                    ensure_ascii=False,
                )
                cursor.execute(_PG_UPDATE, [MentionState.SCORED, scored_at, payload])
        else:
            table = connection.ops.quote_name(Mention._meta.db_table)
            cursor.executemany(
                f"UPDATE {table} SET language = %s, sentiment = %s, sentiment_label = %s, risk = %s, "  # noqa: S608
                "crisis_terms = %s, scenario_hint = %s, state = %s, scored_at = %s WHERE id = %s",
                [
                    (
                        lang,
                        sent,
                        label,
                        risk,
                        json.dumps(terms, ensure_ascii=False),
                        hint,
                        MentionState.SCORED,
                        connection.ops.adapt_datetimefield_value(scored_at),
                        pk,
                    )
                    for pk, lang, sent, label, risk, terms, hint in rows
                ],
            )


def _score(mentions: list[Claimed], terms: dict[str, dict[str, list[str]]] | None) -> list[scoring.Score]:
    """Score a claimed batch with ``score_many`` (its batch speed-ups apply)."""
    return scoring.score_many(
        [m[2] for m in mentions],
        [m[3] or None for m in mentions],
        reaches=[m[5] for m in mentions],
        engagements=[m[6] for m in mentions],
        scenario_terms=terms,
    )


def _rows_for(mentions: list[Claimed], scores: list[scoring.Score]) -> tuple[list[ScoreRow], list[BucketRow]]:
    """Score rows for ``_write_scores`` and bucket rows for ``deltas_for`` of one scored chunk."""
    rows: list[ScoreRow] = []
    bucket_rows: list[BucketRow] = []
    for (
        pk,
        watch_id,
        _text,
        _language,
        _from_source,
        reach,
        _engagement,
        published_at,
        is_own,
    ), score in zip(mentions, scores, strict=True):
        # The stored tag was passed to the scorer as a hint: its language is the one to keep.
        language = score.language
        crisis_terms = list(score.crisis_terms or [])
        rows.append(
            (
                pk,
                (language or "")[:8],
                float(score.sentiment),
                score.label,
                float(score.risk),
                crisis_terms,
                (score.scenario_hint or "")[:32],
            )
        )
        if not is_own:  # our own posts are never chatter: not counted
            bucket_rows.append((watch_id, published_at, score.label, reach, score.risk, bool(crisis_terms)))
    return rows, bucket_rows


@transaction.atomic
def score_new_mentions(*, limit: int = DEFAULT_BATCH) -> list[int]:
    """Score up to ``limit`` new mentions, add them to their buckets; return the watch ids touched.

    Returns ``[]`` when nothing was waiting (or another worker holds every waiting row).
    """
    mentions = _claim_new(limit)
    if not mentions:
        return []
    terms = scenario_terms_load() or None
    now = timezone.now()
    size = overlap.OVERLAP_CHUNK
    chunks = [mentions[offset : offset + size] for offset in range(0, len(mentions), size)]
    bucket_rows: list[BucketRow] = []
    for chunk, scores in overlap.overlapped(chunks, lambda chunk: _score(chunk, terms)):
        rows, chunk_bucket_rows = _rows_for(chunk, scores)
        _write_scores(rows, now)
        bucket_rows.extend(chunk_bucket_rows)
    buckets_add(deltas=deltas_for(bucket_rows))
    return sorted({m[1] for m in mentions})


def new_mentions_waiting(*, before: datetime | None = None) -> bool:
    """Whether any mention is still ``new`` (fetched before ``before``, when given)."""
    waiting = Mention.objects.filter(state=MentionState.NEW)
    if before is not None:
        waiting = waiting.filter(fetched_at__lt=before)
    return waiting.exists()
