"""Reads for the mention explorer: one page of mentions (newest first, keyset), and its filter choices.

A page costs a fixed number of queries however many rows it shows: the rows with their source,
watch, incident, "answered" and "evidence captured" in one statement, and the watches' open
incidents (for "add to incident") in one more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from incidents.models import OPEN_STATUSES, Evidence, Incident
from monitoring.explorer.search import (
    MentionQuery,
    after_mention,
    answered_mentions,
    newest_first,
    search_mentions,
)
from monitoring.models import Mention, Source, Watch

PAGE_SIZE = 50


@dataclass
class ExplorerRow:
    """A mention and the incident it could be added to: its watch's open incident, when the mention
    belongs to none yet."""

    mention: Mention
    add_to: Incident | None


@dataclass
class ExplorerPage:
    """One page of rows; ``next_after`` is the id to pass as ``after`` for the next page (None:
    this is the last)."""

    rows: list[ExplorerRow]
    next_after: int | None


def explorer_mentions(query: MentionQuery) -> QuerySet[Mention]:
    """The mentions ``query`` asks for, newest first, with what each row shows (never ``raw``).

    Annotated: ``answered`` (some incident recorded a reply), ``has_evidence`` (its incident froze it).
    """
    evidence = Evidence.objects.filter(mention=OuterRef("pk"), incident=OuterRef("incident_id"))
    mentions = (
        search_mentions(query)
        .select_related("source", "watch", "incident")
        .only(
            *(f.attname for f in Mention._meta.concrete_fields if f.name != "raw"),
            "source__id",
            "source__kind",
            "source__name",
            "watch__id",
            "watch__name",
            "incident__id",
            "incident__title",
            "incident__status",
        )
        .annotate(answered=answered_mentions(), has_evidence=Exists(evidence))
    )
    return newest_first(mentions, query.q)


def open_incidents_of(watch_ids: Iterable[int]) -> dict[int, Incident]:
    """Each watch's open incident (the database allows one), by watch id."""
    ids = set(watch_ids)
    if not ids:
        return {}
    incidents = Incident.objects.filter(watch_id__in=ids, status__in=OPEN_STATUSES).only(
        "id", "title", "status", "watch_id"
    )
    return {incident.watch_id: incident for incident in incidents}


def explorer_page(
    query: MentionQuery, *, after: int | None = None, page_size: int | None = None
) -> ExplorerPage:
    """``page_size`` (default ``PAGE_SIZE``) mentions after mention ``after`` (from the newest when
    None). One row more is fetched to know whether a next page exists: no COUNT(*) over millions of rows."""
    page_size = page_size or PAGE_SIZE
    mentions = explorer_mentions(query)
    if after is not None:
        mentions = after_mention(mentions, after)
    rows = list(mentions[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    open_incidents = open_incidents_of(m.watch_id for m in rows if m.incident_id is None)
    return ExplorerPage(
        rows=[
            ExplorerRow(m, None if m.incident_id is not None else open_incidents.get(m.watch_id))
            for m in rows
        ],
        next_after=rows[-1].pk if more and rows else None,
    )


def filter_watches() -> QuerySet[Watch]:
    return Watch.objects.order_by("name").only("id", "name")


def filter_sources() -> QuerySet[Source]:
    return (
        Source.objects.select_related("watch")
        .only("id", "name", "watch__name")
        .order_by("watch__name", "name")
    )


def incident_named(incident_id: int | None) -> Incident | None:
    """The incident a search is narrowed to, for the page's heading (None if there is none such)."""
    if incident_id is None:
        return None
    return Incident.objects.only("id", "title", "status", "watch_id").filter(pk=incident_id).first()
