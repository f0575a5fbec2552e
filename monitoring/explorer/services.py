"""The explorer's one write: exporting the filtered mentions as CSV, recorded in the audit trail.

A copy of strangers' posts that leaves CrisisDesk is a manager's call (``EXPORT_INCIDENTS``, the
permission of the incident archive), and every export says who took which filter, when.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db import transaction
from django.utils.translation import gettext as _

from crisisdesk.audit.services import audit_record
from crisisdesk.roles import EXPORT_INCIDENTS, ensure_permission
from crisisdesk.spreadsheet import BOM, csv_cell
from crisisdesk.types import Member
from monitoring.explorer.search import MentionQuery, after_mention, newest_first, search_mentions
from monitoring.models import Mention

EXPORT_COLUMNS = (
    "id", "published_at", "watch", "source_kind", "source", "author", "author_reach", "language",
    "sentiment_label", "sentiment", "risk", "is_own", "incident", "url", "text",
)  # fmt: skip
# Rows are read in keyset chunks of this many: memory stays flat however large the export.
EXPORT_CHUNK = 1000
# An export stops here (the last line says so): a spreadsheet is not the tool for more.
EXPORT_MAX_ROWS = 100_000


def _row(mention: Mention) -> list[str | int | float]:
    values = (
        mention.pk,
        mention.published_at,
        mention.watch.name,
        mention.source.kind,
        mention.source.name,
        mention.author,
        mention.author_reach,
        mention.language,
        mention.sentiment_label,
        mention.sentiment,
        mention.risk,
        mention.is_own,
        mention.incident_id,
        mention.url,
        mention.text,
    )
    return [csv_cell(value) for value in values]


def export_rows(query: MentionQuery, *, limit: int | None = None, chunk: int | None = None) -> Iterator[str]:
    """The CSV text, piece by piece: a BOM and the header, then the mentions newest first, read
    ``chunk`` (``EXPORT_CHUNK``) at a time by keyset (never OFFSET). Past ``limit``
    (``EXPORT_MAX_ROWS``) rows a last line says the export was cut short."""
    limit = limit or EXPORT_MAX_ROWS
    chunk = chunk or EXPORT_CHUNK
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield BOM + take()
    mentions = (
        search_mentions(query)
        .select_related("watch", "source")
        .only(
            *(f.attname for f in Mention._meta.concrete_fields if f.name != "raw"),
            "watch__name",
            "source__kind",
            "source__name",
        )
    )
    mentions = newest_first(mentions, query.q)
    written, after = 0, None
    while written < limit:
        page = mentions if after is None else after_mention(mentions, after)
        rows = list(page[: min(chunk, limit - written)])
        if not rows:
            return
        for mention in rows:
            writer.writerow(_row(mention))
        written += len(rows)
        after = rows[-1].pk
        yield take()
    if after is not None and after_mention(mentions, after).exists():
        writer.writerow(
            [csv_cell(_("Export stopped after %(limit)d rows: narrow the filters.") % {"limit": limit})]
        )
        yield take()


@transaction.atomic
def mentions_export(*, query: MentionQuery, by: Member) -> Iterator[str]:
    """Record the export (``mentions.exported``, with the filter) and return its CSV text as an
    iterator (see ``export_rows``). The audit row commits before the first row is read."""
    ensure_permission(by, EXPORT_INCIDENTS, _("Your role may not export mentions."))
    audit_record(
        actor=by,
        action="mentions.exported",
        target=by,
        after={"filter": query.as_audit(), "max_rows": EXPORT_MAX_ROWS, "format": "csv"},
    )
    return export_rows(query)
