"""Ingest: every source (pull or push) stores its mentions through ``ingest_items``, scored on arrival.

Strangers write what arrives here, so everything is normalised before it is stored
(``monitoring.intake.normalise``): markup becomes plain text, lengths are capped, only http(s) URLs
survive, timestamps become aware UTC and are never in the future. The stored mentions are counted
into their 5-minute buckets (``monitoring.intake.buckets``) in the same transaction.
Storage is idempotent on the unique ``(source, external_id)``: replays, retries and
two workers racing over the same items never create a second row.

**The open incident owns its watch's mentions.** Each call looks the watch's open incident up once
(``_attach_target``, under a ``FOR KEY SHARE`` lock on the watch row that an incident opening or
resolving waits for, so no mention slips between "looked up" and "opened") and the INSERT itself
sets ``incident_id`` on every row published at or after the incident's crisis start
(``Incident.owns_mentions_from``): set-based, no second statement. Posts by the watch's own
accounts (``Watch.own_accounts``) are marked ``is_own`` as they are stored: never counted into
buckets, and, when attached, recorded on the incident's timeline as our public statements.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crisisdesk.links import safe_url
from crisisdesk.live.services import live_publish
from crisisdesk.live.topics import INCIDENTS, incident_topic
from incidents.lifecycle.timeline import own_statements_add
from incidents.models import OPEN_STATUSES, Incident
from monitoring import nudges, scoring
from monitoring.intake import overlap
from monitoring.intake.buckets import buckets_add_mentions
from monitoring.intake.normalise import (
    AUTHOR_MAX,
    clamp_count,
    handle_key,
    language_tag,
    match_text,
    own_handles,
    plain_text,
    stable_external_id,
    utc_datetime,
)
from monitoring.models import Mention, MentionState, Source, Watch
from monitoring.scoring.selectors import scenario_terms_load
from monitoring.sources.base import Item

logger = logging.getLogger(__name__)

# SQLite: rows per bulk INSERT batch (Django splits further under SQLite's variable limit).
CHUNK = 500
SOURCE_FK = "mention_source_watch_fk"  # monitoring/migrations/0003
# Each row travels as a JSON array (positional: no key per value to write or to hash) and the
# chunk as one ``jsonb`` parameter: parsed once, far cheaper than thousands of bound literals or
# ``json_to_recordset`` (measured ~2× less server time per row).
_PG_INSERT = (
    f"INSERT INTO {Mention._meta.db_table} (source_id, watch_id, external_id, url, author, "  # noqa: S608
    "author_reach, engagement, text, language, language_from_source, published_at, fetched_at, "
    "sentiment, sentiment_label, risk, crisis_terms, scenario_hint, state, scored_at, raw, is_own, incident_id) "
    "SELECT %s, %s, r->>0, r->>1, r->>2, (r->>3)::bigint, (r->>4)::bigint, r->>5, r->>6, (r->>7)::boolean, "
    "(r->>8)::timestamptz, %s, (r->>9)::float8, r->>10, (r->>11)::float8, r->12, r->>13, %s, %s, r->14, "
    "(r->>15)::boolean, CASE WHEN (r->>8)::timestamptz >= %s::timestamptz THEN %s::bigint END "
    "FROM jsonb_array_elements(%s::jsonb) AS r "
    "ON CONFLICT (source_id, external_id) DO NOTHING RETURNING id, is_own"
)
# The watch's open incident and its crisis start, read under a lock that an incident opening (or
# resolving) takes FOR UPDATE: concurrent ingests share it, an opening waits for them to commit and
# then attaches their rows, and an ingest starting meanwhile waits and sees the new incident.
_PG_ATTACH_TARGET = (
    f"SELECT i.id, COALESCE(i.owns_mentions_from, i.detected_at) FROM {Watch._meta.db_table} w "  # noqa: S608
    f"LEFT JOIN {Incident._meta.db_table} i ON i.watch_id = w.id AND i.status = ANY(%s) "
    "WHERE w.id = %s FOR KEY SHARE OF w"
)


class AttachTarget(NamedTuple):
    """The open incident that owns what this call stores, from ``since`` (its crisis start) on."""

    incident_id: int
    since: datetime


def _attach_target(watch_id: int) -> AttachTarget | None:
    """The watch's open incident, looked up once per ingest call inside its transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_ATTACH_TARGET, [list(OPEN_STATUSES), watch_id])
            found = cursor.fetchone()
        return AttachTarget(found[0], found[1]) if found and found[0] is not None else None
    # SQLite runs one writer at a time (IMMEDIATE transactions): no lock needed to read a stable answer.
    row = (
        Incident.objects.filter(watch_id=watch_id, status__in=OPEN_STATUSES)
        .values_list("pk", "owns_mentions_from", "detected_at")
        .first()
    )
    return AttachTarget(row[0], row[1] or row[2]) if row else None


@dataclass
class IngestResult:
    """What one ingest call did. ``mention_ids`` are the rows this call created."""

    created: int = 0
    duplicates: int = 0
    dropped: int = 0
    mention_ids: list[int] = field(default_factory=list)
    own_ids: list[int] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.dropped += other.dropped
        self.mention_ids.extend(other.mention_ids)
        self.own_ids.extend(other.own_ids)


def _excluded(text: str, terms: list[str]) -> bool:
    folded = text.casefold()
    return any(term and term.casefold() in folded for term in terms)


# A row ready to store: external_id, then (url, author, reach, engagement, text, language tag,
# published_at, raw, is_own).
Row = tuple[str, tuple[str, str, int, int, str, str, datetime, dict[str, Any], bool]]


class _Scored(NamedTuple):
    """What scoring adds to a row; all empty when scoring failed and the row is stored ``new``.

    A NamedTuple: one is built per mention on the ingest hot path (a frozen dataclass costs ~5×).
    """

    language: str
    sentiment: float | None
    label: str
    risk: float | None
    crisis_terms: list[str]
    scenario_hint: str

    @property
    def state(self) -> str:
        return MentionState.SCORED if self.label else MentionState.NEW


def _score_chunk(
    rows: list[Row], scenario_terms: dict[str, dict[str, list[str]]] | None
) -> list[_Scored] | None:
    """Scores for one chunk of rows, or None if the scorer failed on it.

    Scoring must never cost a mention: on an error the chunk is stored unscored (``new``) and the
    scoring stage retries it later, so a scorer bug delays a crisis signal but loses nothing.
    """
    try:
        scores = scoring.score_many(
            texts=[fields[4] for _, fields in rows],
            languages=[fields[5] for _, fields in rows],
            reaches=[fields[2] for _, fields in rows],
            engagements=[fields[3] for _, fields in rows],
            scenario_terms=scenario_terms,
        )
    except Exception:
        logger.exception(
            "scoring failed on %d ingested items; stored unscored for the scoring stage", len(rows)
        )
        return None
    # Score's fields are already floats, short codes and fresh lists; only the column caps remain.
    # The language is the scorer's: the platform's tag unless the text clearly says another.
    return [
        _Scored(
            score.language[:8],
            score.sentiment,
            score.label,
            score.risk,
            score.crisis_terms,
            score.scenario_hint[:32],
        )
        for (_, fields), score in zip(rows, scores, strict=True)
    ]


def _unscored(rows: list[Row]) -> list[_Scored]:
    return [_Scored(fields[5], None, "", None, [], "") for _, fields in rows]


def _json_array(rows: list[tuple[object, ...]]) -> str:
    """The chunk as one JSON text: orjson (datetimes as RFC 3339, ~5× faster than ``json``), or
    ``json`` for the rare ``raw`` payload orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(rows, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _store_postgresql(
    *, source: Source, rows: list[Row], scored: list[_Scored], now: datetime, target: AttachTarget | None
) -> list[tuple[int, bool]]:
    """One ``INSERT … ON CONFLICT DO NOTHING RETURNING id, is_own`` per chunk: the rows this
    statement created, whatever a concurrent ingest inserted first, each attached to ``target``'s
    incident in the same statement when published at or after its crisis start.
    """
    state = scored[0].state if scored else MentionState.NEW
    payload = _json_array(
        [
            (
                eid,
                url,
                author,
                reach,
                engagement,
                text,
                sc.language,
                bool(language),
                published_at,
                sc.sentiment,
                sc.label,
                sc.risk,
                sc.crisis_terms,
                sc.scenario_hint,
                raw,
                own,
            )
            for (eid, (url, author, reach, engagement, text, language, published_at, raw, own)), sc in zip(
                rows, scored, strict=True
            )
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_INSERT,
            [
                source.pk,
                source.watch_id,
                now,
                state,
                now if state == MentionState.SCORED else None,
                target.since if target else None,
                target.incident_id if target else None,
                payload,
            ],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _store_orm(
    *, source: Source, rows: list[Row], scored: list[_Scored], now: datetime, target: AttachTarget | None
) -> list[tuple[int, bool]]:
    """SQLite (tests, laptops): ``bulk_create`` ignoring conflicts, then this call's rows by stamp."""
    Mention.objects.bulk_create(
        [
            Mention(
                source=source,
                watch_id=source.watch_id,
                external_id=eid,
                url=url,
                author=author,
                author_reach=reach,
                engagement=engagement,
                text=text,
                language=sc.language,
                language_from_source=bool(language),
                published_at=published_at,
                fetched_at=now,
                sentiment=sc.sentiment,
                sentiment_label=sc.label,
                risk=sc.risk,
                crisis_terms=sc.crisis_terms,
                scenario_hint=sc.scenario_hint,
                state=sc.state,
                scored_at=now if sc.state == MentionState.SCORED else None,
                raw=raw,
                is_own=own,
                incident_id=target.incident_id if target and published_at >= target.since else None,
            )
            for (eid, (url, author, reach, engagement, text, language, published_at, raw, own)), sc in zip(
                rows, scored, strict=True
            )
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    return list(
        Mention.objects.filter(source=source, external_id__in=[eid for eid, _ in rows], fetched_at=now)
        .order_by("id")
        .values_list("id", "is_own")
    )


@dataclass
class _Batch:
    """What every chunk of one ingest call shares. Only the helper thread touches ``seen``,
    one chunk after another, so duplicates are found across chunks without a lock."""

    now: datetime
    exclude_terms: list[str]
    languages: set[str]  # language groups of the watch's languages (ms and id are one)
    scenario_terms: dict[str, dict[str, list[str]]] | None
    own: frozenset[str] = frozenset()  # handle keys of the watch's own accounts on this platform
    seen: set[str] = field(default_factory=set)


@dataclass
class _Prepared:
    rows: list[Row]
    scored: list[_Scored]
    dropped: int = 0
    duplicates: int = 0


def _normalise(items: list[Item], batch: _Batch, prepared: _Prepared) -> None:
    """Items → rows of plain tuples (not model instances: a spike of 10,000 items must cost little
    before the INSERT), dropping what the watch filters out and what this call already had."""
    now, exclude_terms, seen, own = batch.now, batch.exclude_terms, batch.seen, batch.own
    for item in items:
        text = plain_text(item.text)
        external_id = stable_external_id(item.external_id or "")
        language = language_tag(item.language)
        if not text or not external_id:
            prepared.dropped += 1
            continue
        # Exclude terms see what the post carries as well as what it shows (a spam domain behind
        # a shortened link): the same text a connector matching locally reads.
        if exclude_terms and _excluded(
            match_text(text, item.match_extras) if item.match_extras else text, exclude_terms
        ):
            prepared.dropped += 1
            continue
        if external_id in seen:  # the same item twice in one call
            prepared.duplicates += 1
            continue
        seen.add(external_id)
        author = plain_text(item.author, limit=AUTHOR_MAX)
        prepared.rows.append(
            (
                external_id,
                (
                    safe_url(item.url),
                    author,
                    clamp_count(item.author_reach),
                    clamp_count(item.engagement),
                    text,
                    language,
                    utc_datetime(item.published_at, now=now),
                    item.raw or {},
                    bool(own) and handle_key(author) in own,
                ),
            )
        )


def _prepare(items: list[Item], batch: _Batch) -> _Prepared:
    """Normalise and score one chunk of items. Runs in the helper thread: no database here."""
    prepared = _Prepared(rows=[], scored=[])
    _normalise(items, batch, prepared)
    if prepared.rows:
        scored = _score_chunk(prepared.rows, batch.scenario_terms)
        if scored is None:
            prepared.scored = _unscored(prepared.rows)  # unscored rows can't be judged: all kept
        else:
            prepared.scored = scored
            if batch.languages:
                _drop_other_languages(prepared, batch.languages)
    return prepared


def _drop_other_languages(prepared: _Prepared, wanted: set[str]) -> None:
    """Drop the scored rows whose own text shows a language outside ``wanted`` (language groups).

    A platform tag is only a hint: Bluesky and Mastodon tag posts with the author's default
    language, so an English post tagged ``tr`` must reach an English watch. A row is dropped only
    when its text is long enough to tell and says another language; a short or undecidable text
    is kept whatever its tag (a missed crisis post costs more than an off-language one)."""
    rows: list[Row] = []
    scored: list[_Scored] = []
    for row, sc in zip(prepared.rows, prepared.scored, strict=True):
        if scoring.language_group(sc.language) not in wanted:
            shown = scoring.text_language(row[1][4])
            if shown and scoring.language_group(shown) not in wanted:
                prepared.dropped += 1
                continue
        rows.append(row)
        scored.append(sc)
    prepared.rows, prepared.scored = rows, scored


@transaction.atomic
def ingest_items(*, source: Source, items: list[Item]) -> IngestResult:
    """Normalise, score and store ``items`` for ``source``, and count them into their buckets;
    never a duplicate row, never a refused spike.

    Scoring happens here, before the INSERT, so each mention is written once, already scored
    (writing it ``new`` and updating it later cost PostgreSQL twice the work per mention). Each
    chunk is normalised and scored in a helper thread while the previous chunk is being stored. If
    the scorer fails, the chunk is stored ``new`` and the scoring stage
    (``monitoring.scoring.rescore``) retries it. After commit, detection is nudged for the watch
    (and scoring, if anything was left ``new``).

    Items that normalise to nothing, whose text or ``match_extras`` contain one of the watch's
    ``exclude_terms``, or whose text shows a language outside the watch's ``languages`` (the
    platform's tag alone never decides: see ``_drop_other_languages``) are counted as ``dropped``.
    Only the visible ``text`` is stored and scored: rescoring reads the stored row, so a score never
    depends on what the row does not keep.
    Rows created by *this* call are told apart from rows a concurrent call created first by
    ``RETURNING`` (PostgreSQL) or by their ``fetched_at`` stamp, which is unique to the call (SQLite).
    """
    result = IngestResult()
    if not items:
        return result
    watch = source.watch
    now = timezone.now()
    batch = _Batch(
        now=now,
        exclude_terms=[str(term) for term in (watch.exclude_terms or []) if str(term).strip()],
        languages={
            scoring.language_group(scoring.normalize_language(code)) for code in (watch.languages or [])
        }
        - {""},
        scenario_terms=scenario_terms_load() or None,
        own=own_handles(watch.own_accounts, source.kind),
    )
    store = _store_postgresql if connection.vendor == "postgresql" else _store_orm
    if store is _store_postgresql:
        # Check the foreign key inside each INSERT, which overlaps with preparing the next chunk,
        # rather than all at COMMIT, when nothing else can run.
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {SOURCE_FK} IMMEDIATE")
    target = _attach_target(source.watch_id)

    scored_ids: list[int] = []
    unscored = 0
    for _, prepared in overlap.overlapped(overlap.chunked(items), lambda chunk: _prepare(chunk, batch)):
        result.dropped += prepared.dropped
        result.duplicates += prepared.duplicates
        if not prepared.rows:
            continue
        stored = store(source=source, rows=prepared.rows, scored=prepared.scored, now=now, target=target)
        created = [pk for pk, _ in stored]
        result.created += len(created)
        result.duplicates += len(prepared.rows) - len(created)
        result.mention_ids.extend(created)
        result.own_ids.extend(pk for pk, own in stored if own)
        if prepared.scored[0].label:  # a chunk is scored as a whole, or stored unscored as a whole
            scored_ids.extend(created)
        else:
            unscored += len(created)
    result.mention_ids.sort()
    # Counted in the transaction that stores them: a mention enters its bucket exactly once (our
    # own posts never: buckets_add_mentions skips them).
    buckets_add_mentions(scored_ids)
    if result.own_ids and target is not None:
        # Rare (the brand posts a few times per crisis): one timeline event per attached own post.
        own_statements_add(mention_ids=result.own_ids)
    if result.created and target is not None:
        # Open pages of the incident (queue, counts, chart) and the triage list hear of the batch:
        # one outbox row per topic per batch, committed with the mentions.
        live_publish(
            topics=[incident_topic(target.incident_id), INCIDENTS],
            kind="mentions",
            data={"count": result.created},
        )

    if result.created:
        Source.objects.filter(pk=source.pk).filter(
            Q(last_mention_at__isnull=True) | Q(last_mention_at__lt=now)
        ).update(last_mention_at=now)
        source.last_mention_at = now
        nudges.after_ingest(watch_id=source.watch_id if scored_ids else None, score=unscored > 0)
    return result
