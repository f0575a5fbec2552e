"""The post-crisis review pages: read, write, action items, KPI refresh, Markdown and printable exports.

Viewers read; responders and up write (``incidents.review.WRITE_REVIEW``). Every POST redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisisdesk.roles import VIEW_INCIDENTS, require
from incidents import review as review_services
from incidents.forms_review import ActionItemDoneForm, ActionItemForm, ReviewForm
from incidents.lifecycle import selectors
from incidents.models import ActionItem, Incident, Review, Status
from incidents.review import WRITE_REVIEW


def _incident(pk: int) -> Incident:
    try:
        return selectors.incident_get(pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _review_of(incident: Incident) -> Review | None:
    return (
        Review.objects.select_related("author")
        .prefetch_related(Prefetch("action_items", queryset=ActionItem.objects.select_related("owner", "playbook")))
        .filter(incident=incident).first()
    )


def _page(pk: int) -> HttpResponse:
    return redirect("incidents:review", pk=pk)


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def _first_error(form) -> str:
    for name, errors in form.errors.items():
        return errors[0] if name == "__all__" else f"{form[name].label}: {errors[0]}"
    return "Invalid input."


def _run(request: HttpRequest, action: Callable[[], str]) -> bool:
    """Call a service; turn refusals into error messages. True when it succeeded."""
    try:
        done = action()
    except review_services.ReviewError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, done)
        return True
    return False


def review_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """The incident page's review panel (fits ``incidents.lifecycle.views.INCIDENT_PANEL_CONTEXT``): one query."""
    review = Review.objects.select_related("author").filter(incident=incident).first()
    return {
        "review": review,
        "review_kpis": review_services.kpi_rows(review.kpis) if review else [],
    }


@require(VIEW_INCIDENTS)
@require_GET
def review_page(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    review = _review_of(incident)
    can_write = request.user.has_perm(WRITE_REVIEW)
    return render(request, "incidents/review/review_page.html", {
        "incident": incident,
        "review": review,
        "kpis": review_services.kpi_rows(review.kpis) if review else [],
        "kpis_computed_at": review_services.kpis_computed_at(review.kpis) if review else None,
        "action_items": list(review.action_items.all()) if review else [],
        "can_write": can_write,
        "can_edit_text": can_write and incident.status == Status.RESOLVED,
        "action_form": ActionItemForm() if can_write and review else None,
    })


@require(WRITE_REVIEW)
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    review = Review.objects.filter(incident=incident).first()
    initial = {name: getattr(review, name) for name in review_services.REVIEW_FIELDS} if review else {}
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _run(request, lambda: _write(request, incident, form.cleaned_data)):
        return _page(pk)
    # An invalid form (or a refused write) is shown again, errors under their fields, with a 400.
    status = 400 if request.method == "POST" else 200
    return render(request, "incidents/review/review_form.html", {
        "incident": incident, "review": review, "form": form,
        "writable": incident.status == Status.RESOLVED,
    }, status=status)


def _write(request: HttpRequest, incident: Incident, data: dict[str, Any]) -> str:
    existed = Review.objects.filter(incident=incident).exists()
    review_services.review_write(incident=incident, by=request.user, **data)
    return "Review updated; KPIs recomputed." if existed else "Review written; KPIs computed."


def _existing_review(incident: Incident) -> Review:
    review = Review.objects.filter(incident=incident).first()
    if review is None:
        raise Http404("This incident has no review yet.")
    return review


@require(WRITE_REVIEW)
@require_POST
def review_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    review = _existing_review(_incident(pk))

    def act() -> str:
        review_services.review_recompute_kpis(review=review, by=request.user)
        return "KPIs recomputed from the record as it is now."

    _run(request, act)
    return _page(pk)


@require(WRITE_REVIEW)
@require_POST
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = _existing_review(_incident(pk))
    form = ActionItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _page(pk)

    def act() -> str:
        review_services.action_item_add(review=review, by=request.user, **form.cleaned_data)
        return "Action item added."

    _run(request, act)
    return _page(pk)


@require(WRITE_REVIEW)
@require_POST
def action_item_done(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    review = _existing_review(_incident(pk))
    item = ActionItem.objects.filter(review=review, pk=item_pk).first()
    if item is None:
        raise Http404("No such action item on this review.")
    form = ActionItemDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _page(pk)
    done = form.cleaned_data["done"]

    def act() -> str:
        review_services.action_item_set_done(item=item, by=request.user, done=done)
        return "Action item done." if done else "Action item reopened."

    _run(request, act)
    return _page(pk)


def _export_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    incident = _incident(pk)
    review = _review_of(incident)
    if review is None:
        raise Http404("This incident has no review yet.")
    return {
        "incident": incident,
        "review": review,
        "kpis": review_services.kpi_rows(review.kpis),
        "action_items": list(review.action_items.all()),
        "timeline": selectors.incident_timeline(incident),
    }


@require(VIEW_INCIDENTS)
@require_GET
def review_export_markdown(request: HttpRequest, pk: int) -> HttpResponse:
    context = _export_context(request, pk)
    body = review_services.review_markdown(
        incident=context["incident"], review=context["review"], timeline=context["timeline"],
        action_items=context["action_items"], base_url=request.build_absolute_uri("/"),
    )
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{pk}-review.md"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require(VIEW_INCIDENTS)
@require_GET
def review_print(request: HttpRequest, pk: int) -> HttpResponse:
    context = _export_context(request, pk)
    # The earliest pre-crisis sign (a notable mention may predate the first detection signal).
    context["crisis_began_at"] = review_services.crisis_start_from(context["timeline"], context["incident"])
    return render(request, "incidents/review/review_print.html", context)
