"""Reads for the audit trail: rows narrowed by filters, and a row's before/after as a field-by-field diff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from crisisdesk.audit.sentences import audit_sentence
from crisisdesk.models import AuditRecord
from crisisdesk.types import Member

# Fields that hold a member's id in audit snapshots: shown with the member's name.
MEMBER_FIELDS = frozenset(
    {"actor", "approver", "assignee", "author", "by", "created_by", "owner", "published_by", "user"}
)


def audit_object_types() -> list[str]:
    """Every object type that has audit rows, for the filter's choices."""
    return list(AuditRecord.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_records(
    *,
    object_type: str = "",
    actor: Member | None = None,
    action: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditRecord]:
    """Audit rows, newest first, narrowed by the given filters (dates are whole local days)."""
    qs = AuditRecord.objects.select_related("actor").order_by("-at", "-id")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if actor is not None:
        qs = qs.filter(actor=actor)
    if action:
        qs = qs.filter(action__icontains=action)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return qs


@dataclass
class DiffRow:
    field: str
    before: str
    after: str
    state: str  # changed, added, removed, same


def _show(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def audit_diff(before: Any, after: Any) -> list[DiffRow]:
    """Field-by-field comparison of an audit row's before and after, changed fields first."""
    before = before if isinstance(before, dict) else {"value": before}
    after = after if isinstance(after, dict) else {"value": after}
    rows = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after:
            state = "same" if before[key] == after[key] else "changed"
        else:
            state = "removed" if key in before else "added"
        rows.append(
            DiffRow(
                field=str(key),
                before=_show(before[key]) if key in before else "",
                after=_show(after[key]) if key in after else "",
                state=state,
            )
        )
    order = {"changed": 0, "added": 1, "removed": 2, "same": 3}
    return sorted(rows, key=lambda row: order[row.state])


@dataclass
class AuditRow:
    record: AuditRecord
    sentence: str
    diff: list[DiffRow]


def _member_ids(records: list[AuditRecord]) -> set[int]:
    ids: set[int] = set()
    for record in records:
        for snapshot in (record.before, record.after):
            if isinstance(snapshot, dict):
                ids.update(v for k, v in snapshot.items() if k in MEMBER_FIELDS and isinstance(v, int))
    return ids


def audit_rows(records: list[AuditRecord]) -> list[AuditRow]:
    """A page of audit rows as sentences and diffs, member ids shown with their names.

    One query for all the names on the page, whatever its length.
    """
    names = dict(get_user_model().objects.filter(pk__in=_member_ids(records)).values_list("pk", "username"))

    def named(snapshot: Any) -> Any:
        if not isinstance(snapshot, dict):
            return snapshot
        return {
            key: f"{names[value]} (#{value})"
            if key in MEMBER_FIELDS and isinstance(value, int) and value in names
            else value
            for key, value in snapshot.items()
        }

    return [
        AuditRow(
            record=record,
            sentence=audit_sentence(record),
            diff=audit_diff(named(record.before), named(record.after)),
        )
        for record in records
    ]
