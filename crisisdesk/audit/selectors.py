"""Reads for the audit trail: rows narrowed by filters, and a row's before/after as a field-by-field diff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from crisisdesk.models import AuditRecord
from crisisdesk.types import Member


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
