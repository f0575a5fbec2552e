"""The scoring stage for mentions stored unscored, and the chunk overlap ingest shares.

Ingest scores mentions as it stores them (``monitoring.ingest``). A mention is stored ``new`` only
when the scorer failed on its chunk; ``score_new_mentions`` (nudged after that commit and by the
sweeper) scores those: ``new`` → scored → 5-minute buckets, in one transaction per batch.

A batch is claimed atomically so two workers never score (and count) the same mention: on
PostgreSQL the ``new`` rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` (a second worker
takes the next rows instead of waiting); on SQLite the settings open every transaction as
``BEGIN IMMEDIATE``, which serialises writers, so the second worker sees the rows already scored.
The mentions leave ``new`` and enter their buckets in the same commit: counted exactly once.

``overlapped`` runs the pure-Python work of chunk k+1 (scoring) in a helper thread while this
thread writes chunk k. psycopg2 and sqlite3 release the GIL while the database works, so the two
use both cores. Only this thread touches the database, so every write stays in one transaction;
if scoring or a write fails, the whole batch rolls back.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from itertools import pairwise
from typing import TypeVar

from django.db import connection, transaction
from django.utils import timezone

from monitoring import scoring
from monitoring.buckets import buckets_add, deltas_for
from monitoring.models import Mention, MentionState
from playbooks.models import Scenario

DEFAULT_BATCH = 500
T = TypeVar("T")
R = TypeVar("R")
# Mentions per overlapped chunk: big enough that each write's round trip and the thread hand-over
# are small against its work, small enough that a 500–1000 batch gives the two threads work to share.
OVERLAP_CHUNK = 250
SWITCH_INTERVAL = 0.0005  # seconds; see ``overlapped``
MIN_CHUNK = 50


def chunked(values: list[T]) -> list[list[T]]:
    """Split ``values`` for ``overlapped``: a small first chunk and a small last chunk, the rest
    in chunks of at most OVERLAP_CHUNK.

    Nothing overlaps the first chunk's preparation (the writer waits for it) nor the last chunk's
    write (the helper has nothing left): keeping those two small keeps both threads busy longer.
    """
    n = len(values)
    if n <= 2 * MIN_CHUNK:
        return [values] if values else []
    middle = n - 2 * MIN_CHUNK
    parts = -(-middle // OVERLAP_CHUNK)
    size = -(-middle // parts)
    bounds = [0, MIN_CHUNK, *range(MIN_CHUNK + size, n - MIN_CHUNK, size), n - MIN_CHUNK, n]
    return [values[start:end] for start, end in pairwise(bounds) if end > start]


def scenario_terms_load() -> dict[str, dict[str, list[str]]]:
    """Scenario type → language → trigger terms, read once per batch."""
    terms: dict[str, dict[str, list[str]]] = {}
    for scenario_type, trigger_terms in Scenario.objects.values_list("type", "trigger_terms"):
        if isinstance(trigger_terms, dict) and trigger_terms:
            terms[scenario_type] = {
                str(lang): [str(t) for t in values if str(t).strip()]
                for lang, values in trigger_terms.items()
                if isinstance(values, list)
            }
    return terms


# What scoring needs of a claimed mention, as plain tuples (no model instances on the hot path).
CLAIM_FIELDS = ("id", "watch_id", "text", "language", "language_from_source", "author_reach", "engagement",
                "published_at")


def _claim_new(limit: int) -> list[tuple]:
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


def _write_scores(rows: list[tuple], scored_at: datetime) -> None:
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
                    (lang, sent, label, risk, json.dumps(terms, ensure_ascii=False), hint, MentionState.SCORED,
                     connection.ops.adapt_datetimefield_value(scored_at), pk)
                    for pk, lang, sent, label, risk, terms, hint in rows
                ],
            )


def _score(mentions: list[tuple], terms: dict[str, dict[str, list[str]]] | None) -> list[scoring.Score]:
    """Score a claimed batch with ``score_many`` (its batch speed-ups apply)."""
    return scoring.score_many(
        [m[2] for m in mentions],
        [m[3] or None for m in mentions],
        reaches=[m[5] for m in mentions],
        engagements=[m[6] for m in mentions],
        scenario_terms=terms,
    )


def _rows_for(mentions: list[tuple], scores: list[scoring.Score]) -> tuple[list[tuple], list[tuple]]:
    """Score rows for ``_write_scores`` and bucket rows for ``deltas_for`` of one scored chunk."""
    rows: list[tuple] = []
    bucket_rows: list[tuple] = []
    for (pk, watch_id, _text, language, from_source, reach, _engagement, published_at), score in zip(
        mentions, scores, strict=True
    ):
        if not (from_source and language):
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
        bucket_rows.append((watch_id, published_at, score.label, reach, score.risk, bool(crisis_terms)))
    return rows, bucket_rows


def overlapped(chunks: list[T], work: Callable[[T], R]) -> Iterator[tuple[T, R]]:
    """Yield ``(chunk, work(chunk))`` in order, running ``work`` on the next chunk in a helper thread
    while the caller stores this one.

    ``work`` must not touch the database: only the caller's thread does, so every write stays in
    the caller's transaction. Leaving early (an exception in the caller) waits for a chunk still in
    the helper thread, so nothing outlives the transaction it belongs to.
    """
    if len(chunks) <= 1:
        for chunk in chunks:
            yield chunk, work(chunk)
        return
    with _short_switch_interval(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring") as pool:
        pending = pool.submit(work, chunks[0])
        for k, chunk in enumerate(chunks):
            result = pending.result()
            if k + 1 < len(chunks):
                pending = pool.submit(work, chunks[k + 1])
            yield chunk, result


_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


@contextmanager
def _short_switch_interval() -> Iterator[None]:
    """Lower the interpreter's thread switch interval while any ``overlapped`` runs.

    The caller's thread wakes from each database call needing the GIL while the helper computes;
    at the default 5 ms switch interval it would wait most of a chunk's time for its turn. The
    interval is process-wide and gunicorn's threads may ingest at once (webhooks, imports): the
    first one in saves it, the last one out restores it.
    """
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, SWITCH_INTERVAL))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


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
    chunks = [mentions[offset : offset + OVERLAP_CHUNK] for offset in range(0, len(mentions), OVERLAP_CHUNK)]
    bucket_rows: list[tuple] = []
    for chunk, scores in overlapped(chunks, lambda chunk: _score(chunk, terms)):
        rows, chunk_bucket_rows = _rows_for(chunk, scores)
        _write_scores(rows, now)
        bucket_rows.extend(chunk_bucket_rows)
    buckets_add(deltas=deltas_for(bucket_rows))
    return sorted({m[1] for m in mentions})
