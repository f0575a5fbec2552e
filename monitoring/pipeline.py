"""The scoring stage: new mentions → scored mentions → 5-minute buckets, in one transaction per batch.

A batch is claimed atomically so two workers never score (and count) the same mention: on
PostgreSQL the ``new`` rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` (a second worker
takes the next rows instead of waiting); on SQLite the settings open every transaction as
``BEGIN IMMEDIATE``, which serialises writers, so the second worker sees the rows already scored.
The mentions leave ``new`` and enter their buckets in the same commit: counted exactly once.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from monitoring import scoring
from monitoring.buckets import buckets_add, deltas_for
from monitoring.models import Mention, MentionState
from playbooks.models import Scenario

DEFAULT_BATCH = 500


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


def _claim_new(limit: int) -> list[Mention]:
    fields = ("id", "watch_id", "text", "language", "language_from_source", "author_reach", "engagement",
              "published_at")
    return list(
        Mention.objects.filter(state=MentionState.NEW)
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .only(*fields)[:limit]
    )


def _write_scores(rows: list[tuple], scored_at: datetime) -> None:
    """Set the scores of claimed rows in one statement per chunk (PostgreSQL) or one executemany."""
    table = connection.ops.quote_name(Mention._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for offset in range(0, len(rows), 1000):
                chunk = rows[offset : offset + 1000]
                values = ", ".join(["(%s, %s, %s::double precision, %s, %s::double precision, %s, %s)"] * len(chunk))
                params: list = []
                for row in chunk:
                    params.extend(row)
                cursor.execute(
                    f"UPDATE {table} AS m SET language = v.language, sentiment = v.sentiment, "  # noqa: S608
                    "sentiment_label = v.label, risk = v.risk, crisis_terms = v.terms::jsonb, "
                    "scenario_hint = v.hint, state = %s, scored_at = %s "
                    f"FROM (VALUES {values}) AS v(id, language, sentiment, label, risk, terms, hint) "
                    "WHERE m.id = v.id",
                    [MentionState.SCORED, scored_at, *params],
                )
        else:
            cursor.executemany(
                f"UPDATE {table} SET language = %s, sentiment = %s, sentiment_label = %s, risk = %s, "  # noqa: S608
                "crisis_terms = %s, scenario_hint = %s, state = %s, scored_at = %s WHERE id = %s",
                [
                    (lang, sent, label, risk, terms, hint, MentionState.SCORED,
                     connection.ops.adapt_datetimefield_value(scored_at), pk)
                    for pk, lang, sent, label, risk, terms, hint in rows
                ],
            )


def _score(mentions: list[Mention], terms: dict[str, dict[str, list[str]]] | None) -> list[scoring.Score]:
    """Score a batch with ``score_many`` when scoring offers it (batch speed-ups), else one by one."""
    score_many = getattr(scoring, "score_many", None)
    if score_many is not None:
        return score_many(
            [m.text for m in mentions],
            [m.language or None for m in mentions],
            reaches=[m.author_reach for m in mentions],
            engagements=[m.engagement for m in mentions],
            scenario_terms=terms,
        )
    return [
        scoring.score_mention(
            m.text, m.language or None, reach=m.author_reach, engagement=m.engagement, scenario_terms=terms
        )
        for m in mentions
    ]


@transaction.atomic
def score_new_mentions(*, limit: int = DEFAULT_BATCH) -> list[int]:
    """Score up to ``limit`` new mentions, add them to their buckets; return the watch ids touched.

    Returns ``[]`` when nothing was waiting (or another worker holds every waiting row).
    """
    mentions = _claim_new(limit)
    if not mentions:
        return []
    terms = scenario_terms_load()
    now = timezone.now()
    rows: list[tuple] = []
    bucket_rows: list[tuple] = []
    scores = _score(mentions, terms or None)
    for mention, score in zip(mentions, scores, strict=True):
        language = mention.language if mention.language_from_source and mention.language else score.language
        crisis_terms = list(score.crisis_terms or [])
        rows.append(
            (
                mention.pk,
                (language or "")[:8],
                float(score.sentiment),
                score.label,
                float(score.risk),
                json.dumps(crisis_terms, ensure_ascii=False),
                (score.scenario_hint or "")[:32],
            )
        )
        bucket_rows.append(
            (mention.watch_id, mention.published_at, score.label, mention.author_reach, score.risk, bool(crisis_terms))
        )
    _write_scores(rows, now)
    buckets_add(deltas=deltas_for(bucket_rows))
    return sorted({m.watch_id for m in mentions})
