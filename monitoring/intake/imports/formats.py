"""The export formats the importer understands, and what each of their columns becomes.

``FORMATS`` is the one table: the importer maps a file's headers with it (``map_columns``) and the
import page lists it, so the page cannot promise a column the code ignores or miss one it reads.

A vendor format is recognised by its marker columns (``min_markers`` of them present). Its columns
are tried first, then the generic names, so an export with an extra or renamed column still maps
what it can. For each mention field the first non-empty column wins, in table order, except a
column marked ``combine``: its text is added to the field's text (unless already part of it).
Headers compare by letters and digits only, case-folded: ``X Followers``, ``x_followers`` and
``XFollowers`` are one column; a dotted header (``extra_author_attributes.name``) reaches into a
JSON object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The mention fields an export column can fill, as the import page names them.
FIELD_LABELS: dict[str, Promise] = {
    "external_id": _("mention id (re-importing the file stores nothing twice)"),
    "text": _("text"),
    "title": _("title (put before the text)"),
    "published_at": _("published at"),
    "url": _("link"),
    "author": _("author"),
    "author_reach": _("author reach"),
    "engagement": _("engagement"),
    "language": _("language"),
    "": _("not imported"),
}
TEXT_FIELDS = ("text", "title")
DATE_FIELDS = ("published_at",)


@dataclass(frozen=True)
class Column:
    """One export column: ``header`` as the tool writes it, the mention ``field`` it fills ("" for a
    column deliberately left out), and a ``note`` the page shows."""

    header: str
    field: str
    note: Promise | str = ""
    combine: bool = False  # added to the field's text rather than only a fallback

    @property
    def key(self) -> str:
        return header_key(self.header)


@dataclass(frozen=True)
class ExportFormat:
    key: str
    name: str
    files: Promise | str  # the files the tool writes, as the page describes them
    columns: tuple[Column, ...]
    markers: tuple[str, ...] = ()  # headers that tell this format apart
    min_markers: int = 2
    marker_keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "marker_keys", frozenset(header_key(header) for header in self.markers))

    def recognises(self, keys: set[str]) -> bool:
        return bool(self.marker_keys) and len(self.marker_keys & keys) >= self.min_markers


def header_key(header: Any) -> str:
    """A header as columns compare: letters and digits only, case-folded."""
    return re.sub(r"[^0-9a-z]", "", str(header or "").strip().casefold())


NOT_SCORED = _("CrisisDesk scores every mention itself")

BRANDWATCH = ExportFormat(
    key="brandwatch",
    name="Brandwatch",
    files=_(
        "Consumer Research “Bulk Mentions Download” CSV: the report block (Report:, query, date range…)"
        " above the column row is skipped."
    ),
    markers=(
        "Full Text",
        "Query Name",
        "Query Id",
        "Page Type",
        "Resource Id",
        "X Followers",
        "Engagement Score",
    ),
    columns=(
        Column("Resource Id", "external_id"),
        Column("Mention Id", "external_id"),
        Column("Full Text", "text"),
        Column("Snippet", "text", _("when Full Text is empty")),
        Column("Title", "title"),
        Column("Date", "published_at", _("in the source's time zone unless the export names one")),
        Column("Url", "url"),
        Column("Author", "author", _("the handle, so the watch's own accounts are recognised")),
        Column("Full Name", "author", _("when Author is empty")),
        Column("X Followers", "author_reach"),
        Column("Twitter Followers", "author_reach", _("older exports")),
        Column("Reach (new)", "author_reach", _("when no follower count is given")),
        Column("Engagement Score", "engagement"),
        Column("Likes", "engagement", _("when Engagement Score is empty")),
        Column("Language", "language"),
        Column("Sentiment", "", NOT_SCORED),
    ),
)

MELTWATER = ExportFormat(
    key="meltwater",
    name="Meltwater",
    files=_(
        "CSV export, usually UTF-16 with a byte-order mark and tab separated (UTF-8 and commas work too)."
    ),
    markers=(
        "Hit Sentence",
        "Opening Text",
        "Influencer",
        "Twitter Screen Name",
        "Key Phrases",
        "Input Name",
    ),
    columns=(
        Column("Document ID", "external_id"),
        Column("Tweet Id", "external_id"),
        Column("Headline", "title"),
        Column("Opening Text", "text"),
        Column(
            "Hit Sentence", "text", _("added to the opening text: the sentence that matched"), combine=True
        ),
        Column("Date", "published_at"),
        Column("Alternate Date Format", "published_at", _("when Date is empty")),
        Column("URL", "url"),
        Column("Twitter Screen Name", "author", _("the handle, so the watch's own accounts are recognised")),
        Column("Influencer", "author", _("when there is no screen name")),
        Column("Reach", "author_reach"),
        Column("Twitter Followers", "author_reach", _("when Reach is empty")),
        Column("Engagement", "engagement"),
        Column("Language", "language"),
        Column("Time", "", _("Date carries the time")),
        Column("Sentiment", "", NOT_SCORED),
        Column("Source", "", _("the outlet's name")),
    ),
)

TALKWALKER = ExportFormat(
    key="talkwalker",
    name="Talkwalker",
    files=_(
        "Documents as JSON (an array, JSON lines, or an API answer) and streaming exports: JSON lines of"
        " chunks, documents read from CT_RESULT chunks (chunk_result.data.data), control and error"
        " chunks skipped."
    ),
    markers=(
        "extra_author_attributes.name",
        "extra_author_attributes.short_name",
        "extra_source_attributes.name",
        "content_snippet",
        "title_snippet",
        "source_type",
        "post_type",
        "published",
    ),
    columns=(
        Column("external_id", "external_id"),
        Column("id", "external_id"),
        Column("url", "external_id", _("Talkwalker's own document key, when no id is given")),
        Column("content", "text"),
        Column("content_snippet", "text", _("when content is empty")),
        Column("title", "title"),
        Column("title_snippet", "title", _("when title is empty")),
        Column("published", "published_at", _("milliseconds since 1970")),
        Column("indexed", "published_at", _("when published is missing")),
        Column("url", "url"),
        Column("extra_author_attributes.short_name", "author", _("the handle, when given")),
        Column("extra_author_attributes.name", "author"),
        Column("reach", "author_reach"),
        Column("article_extended_attributes.twitter_followers", "author_reach", _("when reach is missing")),
        Column("engagement", "engagement"),
        Column("lang", "language"),
        Column("sentiment", "", NOT_SCORED),
    ),
)

# Any other CSV or JSON: the column names listening tools and spreadsheets commonly use.
_GENERIC_NAMES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "id", "mention id", "post id", "tweet id", "guid", "resource id", "uid"),
    "text": ("text", "content", "message", "full text", "body", "snippet", "post", "mention", "contents"),
    "title": ("title", "headline", "subject"),
    "published_at": (
        "published_at",
        "date",
        "created_at",
        "published",
        "published date",
        "datetime",
        "timestamp",
        "time",
        "date (utc)",
        "created",
        "posted_at",
    ),
    "url": ("url", "link", "permalink", "post url", "mention url", "source url"),
    "author": ("author", "username", "user", "screen name", "handle", "author name", "author handle", "name"),
    "author_reach": (
        "author reach",
        "reach",
        "followers",
        "follower count",
        "followers count",
        "twitter followers",
        "audience",
        "subscribers",
    ),
    "engagement": ("engagement", "engagements", "interactions", "total engagement", "likes"),
    "language": ("language", "lang", "language code", "lang code"),
}
GENERIC = ExportFormat(
    key="generic",
    name="CSV / JSON",
    files=_(
        "Any other CSV (comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252) or JSON (an array, an"
        " object holding one, or JSON lines), columns recognised by these names."
    ),
    columns=tuple(Column(name, target) for target, names in _GENERIC_NAMES.items() for name in names),
)

FORMATS: tuple[ExportFormat, ...] = (BRANDWATCH, MELTWATER, TALKWALKER, GENERIC)


@dataclass(frozen=True)
class ColumnMap:
    """How one file's headers fill mention fields: field → [(header, combine)], best first."""

    export_format: ExportFormat
    fields: dict[str, list[tuple[Any, bool]]]

    def has_text(self) -> bool:
        return any(name in self.fields for name in TEXT_FIELDS)

    def value(self, record: dict[str, Any], name: str) -> Any:
        """The field's value in ``record``: the first non-empty column, plus any ``combine`` column's
        text not already in it. None when no column has one."""
        found: Any = None
        for header, combine in self.fields.get(name, ()):
            value = record.get(header)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if found is None:
                found = value
            elif combine and str(value).strip() not in str(found):
                found = f"{str(found).strip()}\n{str(value).strip()}"
        return found


def detect_format(headers: list[Any]) -> ExportFormat:
    """The vendor format these headers are, or ``GENERIC``."""
    keys = {header_key(header) for header in headers}
    return next((fmt for fmt in FORMATS if fmt.recognises(keys)), GENERIC)


def map_columns(headers: list[Any]) -> ColumnMap:
    """Map a file's headers onto mention fields by its format's columns, then the generic names.

    A header fills at most one field (the first that claims it), except that a vendor's id column
    may also be its link (Talkwalker keys documents by ``url``).
    """
    by_key: dict[str, Any] = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    fmt = detect_format(headers)
    columns = fmt.columns + (GENERIC.columns if fmt is not GENERIC else ())
    fields: dict[str, list[tuple[Any, bool]]] = {}
    claimed: dict[Any, str] = {}
    for column in columns:
        header = by_key.get(column.key)
        if header is None or not column.field:
            if header is not None:
                claimed.setdefault(header, "")  # deliberately left out: no generic name takes it
            continue
        owner = claimed.get(header)
        if owner is not None and not (owner == "external_id" and column.field == "url"):
            continue
        claimed.setdefault(header, column.field)
        entries = fields.setdefault(column.field, [])
        if all(existing != header for existing, _combine in entries):
            entries.append((header, column.combine))
    return ColumnMap(export_format=fmt, fields=fields)


def _known_headers() -> dict[str, str]:
    """Every header any format reads → the field it fills (the first format's wins)."""
    known: dict[str, str] = {}
    for export_format in FORMATS:
        for column in export_format.columns:
            if column.field:
                known.setdefault(column.key, column.field)
    return known


_KNOWN_HEADERS = _known_headers()  # for spotting the column row of a CSV


def is_header_row(cells: list[str]) -> bool:
    """Whether a CSV row looks like the column row: it names a text-like and a date-like column."""
    keys = {header_key(cell) for cell in cells if cell}
    named = {_KNOWN_HEADERS[key] for key in keys if key in _KNOWN_HEADERS}
    return bool(named & set(TEXT_FIELDS)) and bool(named & set(DATE_FIELDS))


def format_rows(fmt: ExportFormat) -> list[tuple[str, Promise, str]]:
    """The page's rows for ``fmt``: (columns, the field they become, note). A vendor's columns one by
    one; the generic names grouped by field."""
    if fmt is not GENERIC:
        return [(column.header, FIELD_LABELS[column.field], str(column.note)) for column in fmt.columns]
    return [
        (", ".join(names), FIELD_LABELS[target], str(_("the first one that is filled")))
        for target, names in _GENERIC_NAMES.items()
    ]
