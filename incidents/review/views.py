"""The post-crisis review pages: read, write, action items, KPI refresh, Markdown and printable exports.

Viewers read; responders and up write (``incidents.review.services.WRITE_REVIEW``). Every POST redirects.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisisdesk.roles import VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import form_error, run_action
from incidents.lifecycle import selectors as incident_selectors
from incidents.models import Incident, Review
from incidents.review import selectors, services
from incidents.review.exports import review_markdown
from incidents.review.forms import ActionItemDoneForm, ActionItemForm, ReviewForm
from incidents.review.services import WRITE_REVIEW


def _incident(pk: int) -> Incident:
    try:
        return incident_selectors.incident_get(pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _page(pk: int) -> HttpResponse:
    return redirect("incidents:review", pk=pk)


def review_panel_context(request: MemberRequest, incident: Incident) -> dict[str, Any]:
    """The incident page's review panel (fits ``incidents.lifecycle.views.INCIDENT_PANEL_CONTEXT``)."""
    return selectors.review_panel(incident)


@require(VIEW_INCIDENTS)
@require_GET
def review_page(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    context = selectors.review_page(incident)
    can_write = request.user.has_perm(WRITE_REVIEW)
    return render(
        request,
        "incidents/review/review_page.html",
        {
            **context,
            "can_write": can_write,
            "can_edit_text": can_write and services.review_text_writable(incident),
            "action_form": ActionItemForm() if can_write and context["review"] else None,
        },
    )


@require(WRITE_REVIEW)
@require_http_methods(["GET", "POST"])
def review_edit(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    review = selectors.review_get(incident)
    initial = {name: getattr(review, name) for name in services.REVIEW_FIELDS} if review else {}
    form = ReviewForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_action(request, lambda: _write(request, incident, form.cleaned_data))
    ):
        return _page(pk)
    # An invalid form (or a refused write) is shown again, errors under their fields, with a 400.
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "incidents/review/review_form.html",
        {
            "incident": incident,
            "review": review,
            "form": form,
            "writable": services.review_text_writable(incident),
        },
        status=status,
    )


def _write(request: MemberRequest, incident: Incident, data: dict[str, Any]) -> str:
    existed = selectors.review_get(incident) is not None
    services.review_write(incident=incident, by=request.user, **data)
    return "Review updated; KPIs recomputed." if existed else "Review written; KPIs computed."


def _existing_review(incident: Incident) -> Review:
    review = selectors.review_get(incident)
    if review is None:
        raise Http404("This incident has no review yet.")
    return review


@require(WRITE_REVIEW)
@require_POST
def review_recompute(request: MemberRequest, pk: int) -> HttpResponse:
    review = _existing_review(_incident(pk))

    def act() -> str:
        services.review_recompute_kpis(review=review, by=request.user)
        return "KPIs recomputed from the record as it is now."

    run_action(request, act)
    return _page(pk)


@require(WRITE_REVIEW)
@require_POST
def action_item_add(request: MemberRequest, pk: int) -> HttpResponse:
    review = _existing_review(_incident(pk))
    form = ActionItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _page(pk)

    def act() -> str:
        services.action_item_add(review=review, by=request.user, **form.cleaned_data)
        return "Action item added."

    run_action(request, act)
    return _page(pk)


@require(WRITE_REVIEW)
@require_POST
def action_item_done(request: MemberRequest, pk: int, item_pk: int) -> HttpResponse:
    review = _existing_review(_incident(pk))
    item = selectors.action_item_get(review=review, pk=item_pk)
    if item is None:
        raise Http404("No such action item on this review.")
    form = ActionItemDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _page(pk)
    done = form.cleaned_data["done"]

    def act() -> str:
        services.action_item_set_done(item=item, by=request.user, done=done)
        return "Action item done." if done else "Action item reopened."

    run_action(request, act)
    return _page(pk)


def _export(pk: int) -> selectors.ReviewExport:
    export = selectors.review_export(_incident(pk))
    if export is None:
        raise Http404("This incident has no review yet.")
    return export


@require(VIEW_INCIDENTS)
@require_GET
def review_export_markdown(request: MemberRequest, pk: int) -> HttpResponse:
    body = review_markdown(_export(pk), base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{pk}-review.md"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require(VIEW_INCIDENTS)
@require_GET
def review_print(request: MemberRequest, pk: int) -> HttpResponse:
    return render(request, "incidents/review/review_print.html", vars(_export(pk)))
