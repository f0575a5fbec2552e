"""Ingest: every source (pull or push) stores its mentions through ``ingest_items``.

Strangers write what arrives here, so everything is normalised before it is stored: markup becomes
plain text, lengths are capped, only http(s) URLs survive, timestamps become aware UTC and are never
in the future. Storage is idempotent on the unique ``(source, external_id)``: replays, retries and
two workers racing over the same items never create a second row.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import nh3
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.models import Mention, MentionState, Source
from monitoring.sources.base import Item

logger = logging.getLogger(__name__)

TEXT_MAX = 10_000
AUTHOR_MAX = 255
URL_MAX = 2_000
EXTERNAL_ID_MAX = 255
BIGINT_MAX = 2**63 - 1
# Rows per INSERT / per ``IN (…)`` lookup: small enough for SQLite's variable limit, large enough
# that 10,000 items take a handful of statements.
CHUNK = 500
# PostgreSQL takes a chunk as one JSON parameter: no variable limit, fewer round trips.
PG_CHUNK = 2000
_PG_INSERT = (
    f"INSERT INTO {Mention._meta.db_table} (source_id, watch_id, external_id, url, author, "  # noqa: S608
    "author_reach, engagement, text, language, language_from_source, published_at, fetched_at, "
    "sentiment_label, crisis_terms, scenario_hint, state, raw) "
    "SELECT %s, %s, r.e, r.u, r.a, r.r, r.g, r.t, r.l, r.l <> '', r.p, %s, '', '[]'::jsonb, '', %s, r.j "
    "FROM json_to_recordset(%s::json) AS r(e text, u text, a text, r bigint, g bigint, t text, l text, "
    "p timestamptz, j jsonb) "
    "ON CONFLICT (source_id, external_id) DO NOTHING RETURNING id"
)

_WHITESPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")
# Anything ``plain_text`` would change: control characters, line breaks of any kind, no-break
# spaces, runs of spaces. Text without these (almost every post) is returned as it is.
_NEEDS_FOLDING = re.compile(r"[\x00-\x1f\x7f\x85\xa0\u2028\u2029]| {2}")
_url_validator = URLValidator(schemes=["http", "https"])
# The platform tags of a batch repeat ("en", "tr", "pt-BR"): parse each once per process.
_language_tags: dict[str, str] = {}


@dataclass
class IngestResult:
    """What one ingest call did. ``mention_ids`` are the rows this call created."""

    created: int = 0
    duplicates: int = 0
    dropped: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.dropped += other.dropped
        self.mention_ids.extend(other.mention_ids)


def plain_text(value: str | None, *, limit: int = TEXT_MAX) -> str:
    """Normalise text that is already plain: control characters out, whitespace folded, capped.

    Markup is *not* removed here: a post saying ``I <3 Acme`` or ``<script>alert(1)</script>`` is
    stored exactly as its author wrote it, and every page escapes it. Connectors whose payload is
    HTML (feeds, Mastodon) convert it first with ``html_to_plain_text``.
    """
    if not value:
        return ""
    value = str(value)
    if (
        value
        and len(value) <= limit
        and _NEEDS_FOLDING.search(value) is None
        and not value[0].isspace()
        and not value[-1].isspace()
    ):
        return value
    value = _CONTROL.sub("", value)
    lines = [_WHITESPACE.sub(" ", line).strip() for line in value.splitlines()]
    value = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def html_to_plain_text(value: str | None, *, limit: int = TEXT_MAX) -> str:
    """Markup → plain text: tags removed (script/style with their content), entities decoded.

    A text that was *only* a script (``<script>alert(1)</script>``) keeps its inner words rather
    than vanishing, so a stranger's attempt stays visible as inert text.
    """
    if not value:
        return ""
    value = str(value)
    if "<" in value or "&" in value:
        cleaned = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
        if not cleaned.strip():
            cleaned = nh3.clean(value, tags=set(), clean_content_tags=set())
        value = html.unescape(cleaned)
    return plain_text(value, limit=limit)


def safe_url(value: str | None) -> str:
    """The URL if it is an absolute http(s) URL of sane length, else ``""`` (never a link)."""
    if not value:
        return ""
    value = str(value).strip()
    if len(value) > URL_MAX or any(ch.isspace() for ch in value):
        return ""
    try:
        _url_validator(value)
    except ValidationError:
        return ""
    return value


def language_tag(value: str | None) -> str:
    """A platform tag like ``en-US``/``pt_BR``/``TR`` → its primary subtag (``en``), or ``""``."""
    if not value:
        return ""
    value = str(value)
    found = _language_tags.get(value)
    if found is None:
        match = _LANGUAGE.match(value.strip().lower())
        found = match.group(1) if match else ""
        if len(_language_tags) < 10_000:
            _language_tags[value] = found
    return found


def utc_datetime(value: datetime | None, *, now: datetime) -> datetime:
    """Aware UTC; naive values are taken as UTC; the future is clamped to ``now``."""
    if value is None:
        return now
    if value.tzinfo is UTC:  # what connectors hand us almost always: skip the conversions
        return value if value < now else now
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return min(value, now)


def stable_external_id(value: str) -> str:
    """External ids longer than the column keep a readable prefix and a hash of the whole."""
    value = str(value).strip()
    if len(value) <= EXTERNAL_ID_MAX:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"{value[: EXTERNAL_ID_MAX - 66]}#{digest}"


def _count(value: int | None) -> int:
    try:
        return max(0, min(int(value or 0), BIGINT_MAX))
    except (TypeError, ValueError):
        return 0


def _excluded(text: str, terms: list[str]) -> bool:
    folded = text.casefold()
    return any(term and term.casefold() in folded for term in terms)


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _nudge_scoring() -> None:
    # Imported lazily: the scoring task lives in monitoring.tasks, which imports this module.
    try:
        from monitoring.tasks import score_new_mentions
    except ImportError:  # pragma: no cover - only while the task does not exist yet
        logger.warning("monitoring.tasks.score_new_mentions is missing; the sweeper will score later")
        return
    score_new_mentions.delay()


def _store_postgresql(*, source: Source, rows: list[tuple[str, tuple]], now: datetime) -> list[int]:
    """One ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` per chunk; the ids are exactly the rows
    this statement created, whatever a concurrent ingest inserted first.

    The chunk travels as one JSON parameter unpacked by ``json_to_recordset``: far cheaper to build
    and to parse than thousands of bound literals (psycopg2 adapts datetimes slowly).
    """
    payload = json.dumps(
        [
            {"e": eid, "u": url, "a": author, "r": reach, "g": engagement, "t": text, "l": language,
             "p": published_at.isoformat(), "j": raw}
            for eid, (url, author, reach, engagement, text, language, published_at, raw) in rows
        ],
        ensure_ascii=False,
    )
    with connection.cursor() as cursor:
        cursor.execute(_PG_INSERT, [source.pk, source.watch_id, now, MentionState.NEW, payload])
        return sorted(row[0] for row in cursor.fetchall())


def _store_orm(*, source: Source, rows: list[tuple[str, tuple]], now: datetime) -> list[int]:
    """SQLite (tests, laptops): ``bulk_create`` ignoring conflicts, then this call's rows by stamp."""
    Mention.objects.bulk_create(
        [
            Mention(
                source=source, watch_id=source.watch_id, external_id=eid, url=url, author=author,
                author_reach=reach, engagement=engagement, text=text, language=language,
                language_from_source=bool(language), published_at=published_at, fetched_at=now,
                state=MentionState.NEW, raw=raw,
            )
            for eid, (url, author, reach, engagement, text, language, published_at, raw) in rows
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    return list(
        Mention.objects.filter(source=source, external_id__in=[eid for eid, _ in rows], fetched_at=now)
        .order_by("id")
        .values_list("id", flat=True)
    )


@transaction.atomic
def ingest_items(*, source: Source, items: list[Item]) -> IngestResult:
    """Normalise and store ``items`` for ``source``; never a duplicate row, never a refused spike.

    Items that normalise to nothing, that contain one of the watch's ``exclude_terms`` or whose
    platform language tag is not one of the watch's ``languages`` are counted as ``dropped``.
    Rows created by *this* call are told apart from rows a concurrent call created first by
    ``RETURNING`` (PostgreSQL) or by their ``fetched_at`` stamp, which is unique to the call (SQLite).
    """
    result = IngestResult()
    watch = source.watch
    now = timezone.now()
    exclude_terms = [str(term) for term in (watch.exclude_terms or []) if str(term).strip()]
    languages = {language_tag(code) for code in (watch.languages or [])} - {""}

    # external_id → (url, author, reach, engagement, text, language, published_at, raw): plain
    # tuples, not model instances, so that a spike of 10,000 items costs little before the INSERT.
    rows: dict[str, tuple] = {}
    for item in items:
        text = plain_text(item.text)
        external_id = stable_external_id(item.external_id or "")
        language = language_tag(item.language)
        if not text or not external_id:
            result.dropped += 1
            continue
        if exclude_terms and _excluded(text, exclude_terms):
            result.dropped += 1
            continue
        if language and languages and language not in languages:
            result.dropped += 1
            continue
        if external_id in rows:  # the same item twice in one batch
            result.duplicates += 1
            continue
        rows[external_id] = (
            safe_url(item.url),
            plain_text(item.author, limit=AUTHOR_MAX),
            _count(item.author_reach),
            _count(item.engagement),
            text,
            language,
            utc_datetime(item.published_at, now=now),
            item.raw or {},
        )

    store = _store_postgresql if connection.vendor == "postgresql" else _store_orm
    for chunk in _chunks(list(rows.items()), PG_CHUNK if connection.vendor == "postgresql" else CHUNK):
        created_ids = store(source=source, rows=chunk, now=now)
        result.created += len(created_ids)
        result.duplicates += len(chunk) - len(created_ids)
        result.mention_ids.extend(created_ids)

    if result.created:
        Source.objects.filter(pk=source.pk).filter(
            Q(last_mention_at__isnull=True) | Q(last_mention_at__lt=now)
        ).update(last_mention_at=now)
        source.last_mention_at = now
        transaction.on_commit(_nudge_scoring, robust=True)
    return result
