"""The audit browser: admins read the append-only audit trail, filtered and paginated, as diffs.

Read-only by construction: there is no route that changes an audit record.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crisisdesk.audit.forms import AuditFilterForm
from crisisdesk.audit.selectors import audit_records, audit_rows
from crisisdesk.models import AuditRecord
from crisisdesk.roles import VIEW_AUDIT, require
from crisisdesk.types import MemberRequest

PAGE_SIZE = 50


@require(VIEW_AUDIT)
@require_GET
def audit_list(request: MemberRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    filters = {
        key: value for key, value in (form.cleaned_data if request.GET and valid else {}).items() if value
    }
    # Bad filters show their errors (400) and no rows, rather than an unfiltered list posing as filtered.
    records = audit_records(**filters) if valid else AuditRecord.objects.none()
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "crisisdesk/audit.html",
        {
            "form": form,
            "page": page,
            "rows": audit_rows(list(page.object_list)),
            "query": query.urlencode(),
            "filtered": bool(filters),
        },
        status=200 if valid else 400,
    )
