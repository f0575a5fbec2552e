"""Incident pages: the triage list (with its live htmx fragment), the incident page and its actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.roles import TRIAGE_INCIDENTS, VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import form_error, run_action
from incidents.archive import views as archive_views
from incidents.lifecycle import selectors, services
from incidents.lifecycle.forms import IncidentFilterForm, OwnerForm, SeverityForm, TransitionForm
from incidents.models import Incident
from incidents.notifications import views as notification_views
from incidents.publishing import views as publishing_views
from incidents.response import views as response_views
from incidents.review import views as review_views
from incidents.room import views as room_views

# Panels other parts add to the incident page: template names included in order, each rendered
# with the page's context (``incident``, ``user``, ``perms``…). Add a line here for each, e.g. the
# playbook/tasks/drafts/response-queue/evidence panels and the review panel (main column, above the
# timeline) or crisis roles and notification deliveries (sidebar, under the actions).
INCIDENT_PANELS: list[str] = [
    "incidents/review/_panel.html",  # post-crisis review, once resolved
    *response_views.MAIN_PANELS,  # playbook, tasks, drafts, response queue, evidence
    publishing_views.PANEL,  # the dark site: switch on/off, publish approved drafts, next update
]
INCIDENT_SIDE_PANELS: list[str] = [
    *response_views.SIDE_PANELS,  # crisis roles
    "incidents/notifications/_incident_deliveries.html",
    archive_views.PANEL,  # the archive download (audits, legal holds)
]
# Extra context for those panels: callables (request, incident) -> dict, merged into the page context.
INCIDENT_PANEL_CONTEXT: list[Callable[[MemberRequest, Incident], dict[str, Any]]] = [
    notification_views.incident_panel_context,
    response_views.panel_context,
    review_views.review_panel_context,
    # The page's lead: figures, chart, breakdown, the paged timeline, since you last looked.
    # Its ``crisis_began`` is the same start the review measures "time to detect" from.
    room_views.room_context,
    publishing_views.panel_context,
]


def _get_incident(pk: int) -> Incident:
    try:
        return selectors.incident_get(pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


@require(VIEW_INCIDENTS)
@require_GET
def incident_list(request: MemberRequest) -> HttpResponse:
    form = IncidentFilterForm(request.GET or None)
    filters = form.filters()
    # Page numbers (50 rows): the COUNT and the OFFSET read the filtered incidents only, and the
    # counts columns are computed for the page's rows alone.
    paginator = Paginator(selectors.incident_list(**filters, limit=None), selectors.TRIAGE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    incidents = selectors.with_counts(page.object_list)
    others = request.GET.copy()
    others.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "incidents": incidents,
        "page": page,
        "query": request.GET.urlencode(),
        "page_query": others.urlencode(),
        "open_count": sum(1 for incident in incidents if incident.is_open),
        "now": timezone.now(),  # to mark a promised public update that is overdue
    }
    if request.htmx:
        # The live fragment: the table body only, refreshed every 10 s.
        return render(request, "incidents/_incident_rows.html", context)
    return render(request, "incidents/incident_list.html", context)


@require(VIEW_INCIDENTS)
@require_GET
def incident_detail(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _get_incident(pk)
    context = {
        "incident": incident,
        "signals": selectors.incident_signals(incident),
        "mentions": selectors.incident_recent_mentions(incident),
        "transitions": selectors.allowed_transitions(incident, request.user),
        "severity_form": SeverityForm(initial={"severity": incident.severity}),
        "owner_form": OwnerForm(initial={"owner": incident.owner_id}),
        "incident_panels": INCIDENT_PANELS,
        "incident_side_panels": INCIDENT_SIDE_PANELS,
    }
    for extra in INCIDENT_PANEL_CONTEXT:
        context.update(extra(request, incident))
    return render(request, "incidents/incident_detail.html", context)


def _back(pk: int) -> HttpResponse:
    return redirect("incidents:detail", pk=pk)


@require(TRIAGE_INCIDENTS)
@require_POST
def incident_transition(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _get_incident(pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk)

    def act() -> str:
        services.incident_transition(
            incident=incident,
            to_status=form.cleaned_data["to_status"],
            by=request.user,
            note=form.cleaned_data["note"],
        )
        return f"Incident is now {incident.get_status_display().lower()}."

    run_action(request, act)
    return _back(pk)


@require(TRIAGE_INCIDENTS)
@require_POST
def incident_severity(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _get_incident(pk)
    form = SeverityForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk)

    def act() -> str:
        services.incident_change_severity(
            incident=incident,
            severity=form.cleaned_data["severity"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        return f"Severity is now SEV{incident.severity}."

    run_action(request, act)
    return _back(pk)


@require(TRIAGE_INCIDENTS)
@require_POST
def incident_owner(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _get_incident(pk)
    form = OwnerForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk)

    def act() -> str:
        services.incident_assign_owner(incident=incident, owner=form.cleaned_data["owner"], by=request.user)
        return "Owner updated."

    run_action(request, act)
    return _back(pk)
