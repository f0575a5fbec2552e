"""The audit browser: admins read the append-only audit trail, filtered and paginated, as diffs.

Read-only by construction: there is no route that changes an audit record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisdesk.models import AuditRecord
from crisisdesk.roles import VIEW_AUDIT, require

PAGE_SIZE = 50


# --- Filters -----------------------------------------------------------------------------------


def audit_object_types() -> list[str]:
    """Every object type that has audit rows, for the filter's choices."""
    return list(AuditRecord.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(required=False, label="Object type")
    actor = forms.ModelChoiceField(queryset=None, required=False, empty_label="Anyone", to_field_name="username")
    action = forms.CharField(required=False, max_length=80, help_text="Part of the action, e.g. incident.status")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "Any type"), *((t, t) for t in audit_object_types())]
        self.fields["actor"].queryset = get_user_model().objects.order_by("username")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_records(
    *, object_type: str = "", actor: Any = None, action: str = "", object_id: str = "",
    date_from=None, date_to=None,
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


# --- Diffs -------------------------------------------------------------------------------------


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
        rows.append(DiffRow(
            field=str(key),
            before=_show(before[key]) if key in before else "",
            after=_show(after[key]) if key in after else "",
            state=state,
        ))
    order = {"changed": 0, "added": 1, "removed": 2, "same": 3}
    return sorted(rows, key=lambda row: order[row.state])


# --- Page --------------------------------------------------------------------------------------


@require(VIEW_AUDIT)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    filters = {key: value for key, value in (form.cleaned_data if request.GET and valid else {}).items() if value}
    # Bad filters show their errors (400) and no rows, rather than an unfiltered list posing as filtered.
    records = audit_records(**filters) if valid else AuditRecord.objects.none()
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    for record in page.object_list:
        record.diff = audit_diff(record.before, record.after)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "crisisdesk/audit.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(filters),
    }, status=200 if valid else 400)
