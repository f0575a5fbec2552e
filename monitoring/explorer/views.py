"""The mention explorer page and its CSV export.

Everyone who may read monitoring sees the rows; the write actions on each row (answer, capture
evidence, add to an incident) post to the incident views with ``next`` set to this page, and appear
only for members who may triage. The export is a POST (it is audited: a deliberate act with a CSRF
token, never a link another site can trigger) for members who may export.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from crisisdesk.roles import EXPORT_INCIDENTS, TRIAGE_INCIDENTS, VIEW_MONITORING, require
from crisisdesk.types import MemberRequest
from monitoring.explorer import selectors, services
from monitoring.explorer.forms import FILTER_FIELDS, MentionSearchForm

TEMPLATE = "monitoring/mention_explorer.html"
# Folded under "More filters" (open when one of them is set): a phone shows the search first.
MORE_FILTERS = tuple(name for name in FILTER_FIELDS if name not in ("q", "watch", "sentiment"))


def _filter_query(data: dict[str, str]) -> str:
    """The filters as a query string (no ``after``): carried by the next-page link and the export."""
    return urlencode(
        [(name, value) for name in FILTER_FIELDS if (value := str(data.get(name) or "").strip())]
    )


def _render(request: MemberRequest, form: MentionSearchForm, status: int = 200) -> HttpResponse:
    valid = form.is_valid()
    query = form.query() if valid else None
    page = selectors.explorer_page(query, after=form.after_id()) if query is not None else None
    filter_query = _filter_query(request.GET) if valid else ""
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "page": page,
            "watches": selectors.filter_watches(),
            "sources": selectors.filter_sources(),
            "narrowed_to": selectors.incident_named(query.incident_id) if query else None,
            "filter_query": filter_query,
            "filter_pairs": [(name, form.data.get(name)) for name in FILTER_FIELDS if form.data.get(name)],
            "more_filters_open": any(form.data.get(name) for name in MORE_FILTERS) or not valid,
            "time_zone": timezone.get_current_timezone_name(),
            "can_triage": request.user.has_perm(TRIAGE_INCIDENTS),
            "can_export": request.user.has_perm(EXPORT_INCIDENTS),
            "here": request.get_full_path(),
        },
        status=status if valid else 400,
    )


@require(VIEW_MONITORING)
@require_safe
def mention_explorer(request: MemberRequest) -> HttpResponse:
    """Search every mention: ``?q=…&watch=…&…`` (``MentionSearchForm``), newest first, 50 a page;
    ``after=<id>`` continues after that mention. A bad filter answers 400 with the message."""
    return _render(request, MentionSearchForm(request.GET))


@require(EXPORT_INCIDENTS)
@require_POST
def mentions_export(request: MemberRequest) -> HttpResponseBase:
    """The filtered mentions as CSV (UTF-8 with a BOM), streamed; recorded as ``mentions.exported``."""
    form = MentionSearchForm(request.POST)
    if not form.is_valid():
        return _render(request, form)
    rows = services.mentions_export(query=form.query(), by=request.user)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mentions-{stamp}.csv"'
    response["Cache-Control"] = "no-store"  # strangers' posts: no copy in any cache
    return response
