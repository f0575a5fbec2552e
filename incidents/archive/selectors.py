"""Reads for the incident archive: one query per section, rows as plain values, streamed.

Each ``*_rows`` function is a lazy iterator over ``values()`` rows (``.iterator()``: a server-side
cursor on PostgreSQL, chunked fetches on SQLite), so an incident with 20,000 mentions never holds
20,000 model instances. People are named by username, joined in the same query. Column order is
the order of ``*_COLUMNS``; the archive writer keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import CharField
from django.db.models.functions import Cast

from crisisdesk.models import AuditRecord
from incidents.models import Draft, Evidence, Incident, Reply, TimelineEvent
from monitoring.models import Mention

CHUNK = 2000

# (output name, lookup) pairs: the lookup is what ``values()`` reads, the name what the archive shows.
TIMELINE_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"), ("at", "at"), ("phase", "phase"), ("kind", "kind"), ("actor", "actor__username"),
    ("text", "text"), ("mention_id", "mention_id"), ("signal_id", "signal_id"), ("links", "links"),
    ("data", "data"), ("recorded_at", "recorded_at"),
]  # fmt: skip
DRAFT_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"), ("status", "status"), ("kind", "kind"), ("channel", "channel"), ("language", "language"),
    ("title", "title"), ("body", "body"), ("template_id", "template_id"),
    ("template_version", "template_version"), ("author", "author__username"),
    ("approver", "approver__username"), ("submitted_at", "submitted_at"), ("approved_at", "approved_at"),
    ("published_at", "published_at"), ("published_by", "published_by__username"),
    ("published_channel", "published_channel"), ("published_url", "published_url"),
    ("created_at", "created_at"), ("updated_at", "updated_at"),
]  # fmt: skip
# The approval ledger: every audit row written about the incident's drafts (created, edited,
# submitted, approved, returned, published), oldest first, with the state before and after.
DRAFT_LEDGER_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"), ("at", "at"), ("draft_id", "object_id"), ("action", "action"), ("actor", "actor__username"),
    ("before", "before"), ("after", "after"),
]  # fmt: skip
REPLY_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"), ("mention_id", "mention_id"), ("mention_url", "mention__url"), ("text", "text"),
    ("url", "url"), ("replied_by", "replied_by__username"), ("replied_at", "replied_at"),
]  # fmt: skip
EVIDENCE_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"), ("sha256", "sha256"), ("mention_id", "mention_id"), ("author", "author"), ("url", "url"),
    ("published_at", "published_at"), ("text", "text"), ("captured_at", "captured_at"),
    ("captured_by", "captured_by__username"), ("note", "note"),
]  # fmt: skip
MENTION_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"), ("source_id", "source_id"), ("source", "source__name"), ("source_kind", "source__kind"),
    ("external_id", "external_id"), ("url", "url"), ("author", "author"), ("author_reach", "author_reach"),
    ("engagement", "engagement"), ("language", "language"), ("published_at", "published_at"),
    ("fetched_at", "fetched_at"), ("sentiment", "sentiment"), ("sentiment_label", "sentiment_label"),
    ("risk", "risk"), ("crisis_terms", "crisis_terms"), ("scenario_hint", "scenario_hint"),
    ("state", "state"), ("scored_at", "scored_at"), ("text", "text"), ("raw", "raw"),
]  # fmt: skip


def archive_incident(pk: int) -> Incident:
    """The incident with everything its header names, in one query (raises ``Incident.DoesNotExist``)."""
    return Incident.objects.select_related(
        "watch", "scenario", "playbook", "owner", "acknowledged_by", "resolved_by", "closed_by"
    ).get(pk=pk)


def _rows(queryset: Any, columns: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    lookups = [lookup for _, lookup in columns]
    for values in queryset.values(*lookups).iterator(chunk_size=CHUNK):
        yield {name: values[lookup] for name, lookup in columns}


def timeline_rows(incident: Incident) -> Iterator[dict[str, Any]]:
    """Every timeline event, in the order the page shows them (time, then id)."""
    return _rows(TimelineEvent.objects.filter(incident=incident).order_by("at", "id"), TIMELINE_COLUMNS)


def draft_rows(incident: Incident) -> Iterator[dict[str, Any]]:
    """Every draft, oldest first, in its current state."""
    return _rows(Draft.objects.filter(incident=incident).order_by("created_at", "id"), DRAFT_COLUMNS)


def draft_ledger_rows(incident: Incident) -> Iterator[dict[str, Any]]:
    """The audit rows of the incident's drafts, oldest first (one query: the draft ids are a subquery)."""
    draft_ids = Draft.objects.filter(incident=incident).annotate(key=Cast("pk", CharField())).values("key")
    audit = AuditRecord.objects.filter(object_type=Draft._meta.label_lower, object_id__in=draft_ids)
    return _rows(audit.order_by("at", "id"), DRAFT_LEDGER_COLUMNS)


def reply_rows(incident: Incident) -> Iterator[dict[str, Any]]:
    """Every recorded reply, oldest first, with the URL of the mention it answers."""
    return _rows(Reply.objects.filter(incident=incident).order_by("replied_at", "id"), REPLY_COLUMNS)


def evidence_rows(incident: Incident) -> Iterator[dict[str, Any]]:
    """Every evidence snapshot, in capture order, with the SHA-256 stored when it was captured."""
    return _rows(Evidence.objects.filter(incident=incident).order_by("captured_at", "id"), EVIDENCE_COLUMNS)


def mention_rows(incident: Incident) -> Iterator[dict[str, Any]]:
    """Every mention attached to the incident, oldest first (the ``(incident, -published_at)`` index)."""
    mentions = Mention.objects.filter(incident=incident).order_by("published_at", "id")
    return _rows(mentions, MENTION_COLUMNS)
