"""The mention search the explorer page, its CSV export and the REST API share: filters plus full text.

Full text on PostgreSQL reads the stored ``search_vector`` (migration ``0006``: each mention stemmed
with its language's text-search configuration, plus word for word with ``simple``) through its GIN
index. The words typed are matched as ``plainto_tsquery`` does: every word must occur, punctuation
and operators are only separators, so no input is a syntax error. The query is the OR of the same
words under ``simple`` and under each stemming configuration: "delay" finds "delayed" in an English
post, "uçuş" finds "uçuşum" in a Turkish one, and an exact word is found in any language.

SQLite (laptop mode) has no text search: every word must occur as a whole word, case-insensitively
(a regular expression with word boundaries around the escaped word). No stemming there.

Crossing upward on purpose: "answered" asks whether an incident recorded a reply to the mention
(``incidents.models.Reply``), and "in incident" filters on the incident it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, DateTimeField, Exists, F, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import CombinedExpression, RawSQL, Value

from incidents.models import Reply
from monitoring.models import Mention

# The language → text-search configuration map of migration 0006's generated column; any other
# language is indexed with ``simple`` only. Change both together (a new migration).
TEXT_SEARCH_CONFIGS = {"en": "english", "tr": "turkish", "id": "indonesian"}
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 12
# "language=other": a mention in none of the languages a filter lists (or with none detected).
OTHER_LANGUAGE = "other"
NEWEST_FIRST = ("-published_at", "-id")
# A word in fewer than this share of mentions is rare (see ``newest_first``).
RARE_WORD_SHARE = 0.005
_WORD = re.compile(r"\w+")


def search_words(text: str) -> list[str]:
    """The words of ``text`` that a search matches (letters and digits of any script), at most
    ``SEARCH_MAX_WORDS``: everything else only separates them."""
    return _WORD.findall(text or "")[:SEARCH_MAX_WORDS]


@dataclass(frozen=True)
class MentionQuery:
    """What the member asked for; every field left at its default does not narrow the search.

    ``known_languages`` are the languages the ``language=other`` filter leaves out. ``since`` is
    inclusive, ``until`` exclusive; both aware datetimes.
    """

    q: str = ""
    watch_id: int | None = None
    source_id: int | None = None
    language: str = ""
    known_languages: tuple[str, ...] = ()
    sentiment: str = ""
    min_risk: float | None = None
    min_reach: int | None = None
    author: str = ""
    since: datetime | None = None
    until: datetime | None = None
    incident_id: int | None = None
    in_incident: bool | None = None
    own: bool | None = None
    answered: bool | None = None

    def as_audit(self) -> dict[str, Any]:
        """The filters that narrow the search, JSON-ready (for the export's audit row)."""
        shown: dict[str, Any] = {}
        for field in fields(self):
            if field.name == "known_languages":
                continue
            value = getattr(self, field.name)
            if value in (None, "", ()):
                continue
            shown[field.name] = value.isoformat() if isinstance(value, datetime) else value
        return shown


def _postgres_text_match(words: list[str]) -> RawSQL:
    """``search_vector @@ (plainto_tsquery('simple', …) || plainto_tsquery('english', …) || …)``."""
    configs = ["simple", *dict.fromkeys(TEXT_SEARCH_CONFIGS.values())]
    phrase = " ".join(words)
    tsquery = " || ".join("plainto_tsquery(%s::regconfig, %s)" for _ in configs)
    column = (
        f"{connection.ops.quote_name(Mention._meta.db_table)}.{connection.ops.quote_name('search_vector')}"
    )
    params: list[str] = []
    for config in configs:
        params.extend((config, phrase))
    # Only constants are formatted into the SQL (the quoted column, one placeholder pair per
    # configuration); the configurations and the words are bound parameters.
    return RawSQL(f"{column} @@ ({tsquery})", params, output_field=BooleanField())  # noqa: S611


def _whole_words(words: list[str]) -> Q:
    match = Q()
    for word in words:
        match &= Q(text__iregex=rf"\b{re.escape(word)}\b")
    return match


def text_matches(mentions: QuerySet[Mention], q: str) -> QuerySet[Mention]:
    """``mentions`` whose text contains every word of ``q`` (see the module docstring). A ``q``
    without words narrows nothing."""
    words = search_words(q)
    if not words:
        return mentions
    if connection.vendor == "postgresql":
        return mentions.filter(_postgres_text_match(words))
    return mentions.filter(_whole_words(words))


def answered_mentions() -> Exists:
    """True when any incident recorded a reply to the mention."""
    return Exists(Reply.objects.filter(mention=OuterRef("pk")))


def search_mentions(query: MentionQuery, mentions: QuerySet[Mention] | None = None) -> QuerySet[Mention]:
    """``mentions`` (every mention by default) narrowed by ``query``, in no particular order."""
    qs = Mention.objects.all() if mentions is None else mentions
    if query.watch_id is not None:
        qs = qs.filter(watch_id=query.watch_id)
    if query.source_id is not None:
        qs = qs.filter(source_id=query.source_id)
    if query.language == OTHER_LANGUAGE:
        qs = qs.exclude(language__in=query.known_languages)
    elif query.language:
        qs = qs.filter(language=query.language)
    if query.sentiment:
        qs = qs.filter(sentiment_label=query.sentiment)
    if query.min_risk is not None:
        qs = qs.filter(risk__gte=query.min_risk)
    if query.min_reach is not None:
        qs = qs.filter(author_reach__gte=query.min_reach)
    if query.author:
        qs = qs.filter(author__iexact=query.author)
    if query.since is not None:
        qs = qs.filter(published_at__gte=query.since)
    if query.until is not None:
        qs = qs.filter(published_at__lt=query.until)
    if query.incident_id is not None:
        qs = qs.filter(incident_id=query.incident_id)
    if query.in_incident is not None:
        qs = qs.filter(incident__isnull=not query.in_incident)
    if query.own is not None:
        qs = qs.filter(is_own=query.own)
    if query.answered is not None:
        qs = qs.filter(answered_mentions() if query.answered else ~answered_mentions())
    return text_matches(qs, query.q)


def after_mention(mentions: QuerySet[Mention], after: int) -> QuerySet[Mention]:
    """The keyset step of a newest-first list: ``mentions`` that come after mention ``after`` in
    (published_at, id) descending order. The anchor's time is read by a subquery in the same
    statement (no OFFSET, no second query); an anchor that does not exist leaves nothing."""
    anchor_time = Subquery(Mention.objects.filter(pk=after).values("published_at")[:1])
    # The redundant ``<=`` lets PostgreSQL start its backward index scan at the anchor.
    return mentions.filter(published_at__lte=anchor_time).filter(
        Q(published_at__lt=anchor_time) | Q(published_at=anchor_time, id__lt=after)
    )


# Per word searched, the largest share of mentions holding any of its forms (simple and stemmed),
# from the most-common-elements statistics ANALYZE keeps for ``search_vector``; a form not among
# them is rarer than all of those (share 0). NULL when the column has no statistics yet.
_SHARE_SQL = """
WITH mce AS (
    SELECT f.elem, f.freq
    FROM pg_stats p, unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) AS f(elem, freq)
    WHERE p.schemaname = current_schema() AND p.tablename = %s AND p.attname = 'search_vector'
), per_word AS (
    SELECT w.word, max(coalesce(mce.freq, 0)) AS share
    FROM unnest(%s::text[]) AS w(word)
    CROSS JOIN unnest(%s::text[]) AS c(config)
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(c.config::regconfig, w.word))) AS l(lexeme)
    LEFT JOIN mce ON mce.elem = l.lexeme
    GROUP BY w.word
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM mce) THEN (SELECT min(share) FROM per_word) END
"""


def rarest_word_share(q: str) -> float | None:
    """PostgreSQL only: the share of mentions holding the rarest word of ``q`` (every word must
    appear, so the matches are at most that share), from the planner's statistics; None when
    unknown (no words, no statistics yet, or another database)."""
    words = search_words(q)
    if not words or connection.vendor != "postgresql":
        return None
    configs = ["simple", *dict.fromkeys(TEXT_SEARCH_CONFIGS.values())]
    with connection.cursor() as cursor:
        cursor.execute(_SHARE_SQL, [Mention._meta.db_table, words, configs])
        row = cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])


def is_rare_search(q: str) -> bool:
    """True when the statistics say a word of ``q`` is in fewer than ``RARE_WORD_SHARE`` of the
    mentions (so the matches are few). One small query on PostgreSQL when ``q`` has words."""
    share = rarest_word_share(q)
    return share is not None and share < RARE_WORD_SHARE


# An alias of published_at that no index serves (see ``newest_first``); the API's cursor pages
# order by it when the search is rare.
UNINDEXED_TIME = "unindexed_published_at"


def unindexed_time() -> CombinedExpression:
    """``published_at + interval '0'``: the same value, through an expression the time index cannot serve."""
    return CombinedExpression(F("published_at"), "+", Value(timedelta(0)), output_field=DateTimeField())


def newest_first(mentions: QuerySet[Mention], q: str = "") -> QuerySet[Mention]:
    """``mentions`` ordered newest first, (published_at, id) descending.

    Walking the time index backwards and testing each row finds a page of a common word at once,
    but reads the whole table for a rare one (a flight number, a name). PostgreSQL's estimate for a
    full-text match is capped at 0.5 % of the rows whatever the word, so it walks the index for rare
    words too. When the statistics say a word searched is rare, the time is ordered through an
    expression the index cannot serve, and PostgreSQL reads the few matches from the GIN index
    and sorts them instead (measured: 722 ms → 17 ms for a word in one of a million mentions).
    """
    if not is_rare_search(q):
        return mentions.order_by(*NEWEST_FIRST)
    return mentions.order_by(OrderBy(unindexed_time(), descending=True), "-id")
