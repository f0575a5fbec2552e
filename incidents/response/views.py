"""Actions on the incident page's working panels: playbook, tasks, crisis roles, drafts, replies, evidence.

Every view is a POST that validates a form, calls one service in ``incidents.response.services`` and redirects
back to the incident page at the panel it came from, with the outcome as a message. There is
deliberately no view that deletes or hides a mention, a reply or evidence: transparency is the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisdesk.roles import APPROVE_DRAFTS, TRIAGE_INCIDENTS, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import form_error, run_action, safe_next
from incidents.models import Draft, Incident, RoleAssignment, Task
from incidents.response import services
from incidents.response.forms import (
    ActivateForm,
    DraftForm,
    DraftFromTemplateForm,
    DraftReturnForm,
    EvidenceForm,
    FirstResponseForm,
    MentionAddForm,
    PublicSummaryForm,
    PublishForm,
    QueueFilterForm,
    ReplyForm,
    RoleAssignForm,
    TaskForm,
)
from incidents.response.selectors import response_panel_context
from playbooks.constants import CHANNEL_CHOICES

# The panels this module adds to the incident page (registered in ``incidents.lifecycle.views``).
MAIN_PANELS = [
    "incidents/panels/_playbook.html",
    "incidents/panels/_tasks.html",
    "incidents/panels/_drafts.html",
    "incidents/panels/_response_queue.html",
    "incidents/panels/_evidence.html",
]
SIDE_PANELS = ["incidents/panels/_crisis_roles.html"]


def panel_context(request: MemberRequest, incident: Incident) -> dict[str, Any]:
    """The panels' context (fits ``incidents.lifecycle.views.INCIDENT_PANEL_CONTEXT``). The queue's
    page and order come from ``?queue=N&queue_sort=risk|newest`` on the incident page, its filters
    from ``language``, ``source``, ``reach`` and ``answered`` (``QueueFilterForm``)."""
    filter_form = QueueFilterForm(request.GET)
    filters = filter_form.filters()
    query = {
        key: value for key in ("language", "source", "reach", "answered") if (value := request.GET.get(key))
    }
    return {
        **response_panel_context(
            incident,
            can_triage=request.user.has_perm(TRIAGE_INCIDENTS),
            queue_page=request.GET.get("queue", 1),
            queue_sort=request.GET.get("queue_sort", "risk"),
            queue_filters=filters,
        ),
        "queue_filter_form": filter_form,
        # The filters, carried by the queue's sort and page links.
        "queue_filter_query": urlencode(query) if filters.active else "",
        "new_draft_form": DraftForm(auto_id="id_new_draft_%s"),
        "draft_channels": CHANNEL_CHOICES,
        "publish_channels": [choice for choice in CHANNEL_CHOICES if choice[0] != "all"],
    }


def _incident(pk: int) -> Incident:
    try:
        return Incident.objects.select_related("watch").get(pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _back(pk: int, anchor: str) -> HttpResponse:
    return redirect(reverse("incidents:detail", args=[pk]) + f"#{anchor}")


def _back_or_next(request: MemberRequest, pk: int, anchor: str) -> HttpResponse:
    """Back to the page the form came from when it sent a ``next`` on this site (the mention
    explorer does), else to the incident page at ``anchor``."""
    return redirect(safe_next(request, reverse("incidents:detail", args=[pk]) + f"#{anchor}"))


@require(TRIAGE_INCIDENTS)
@require_POST
def playbook_activate(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = ActivateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "playbook")
    playbook = form.cleaned_data["playbook"]

    def act() -> str:
        services.playbook_activate(incident=incident, playbook=playbook, by=request.user)
        return f"Playbook “{playbook}” activated."

    run_action(request, act)
    return _back(pk, "tasks")


@require(TRIAGE_INCIDENTS)
@require_POST
def task_set_done(request: MemberRequest, pk: int, task_pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=task_pk, incident_id=pk)
    form = TaskForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "tasks")
    done = form.cleaned_data["done"] == "1"

    def act() -> str:
        if done:
            services.task_complete(task=task, by=request.user)
            return f"Done: {task.title}"
        services.task_reopen(task=task, by=request.user)
        return f"Reopened: {task.title}"

    run_action(request, act)
    return _back(pk, f"task-{task.pk}")


@require(TRIAGE_INCIDENTS)
@require_POST
def role_assign(request: MemberRequest, pk: int, assignment_pk: int) -> HttpResponse:
    assignment = get_object_or_404(RoleAssignment, pk=assignment_pk, incident_id=pk)
    form = RoleAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "crisis-roles")
    user = form.cleaned_data["user"]

    def act() -> str:
        services.crisis_role_assign(assignment=assignment, user=user, by=request.user)
        return (
            f"{assignment.role_name}: {user.get_username()}"
            if user
            else f"{assignment.role_name} unassigned."
        )

    run_action(request, act)
    return _back(pk, "crisis-roles")


@require(TRIAGE_INCIDENTS)
@require_POST
def draft_create(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = DraftForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "drafts")
    holder: dict[str, Draft] = {}

    def act() -> str:
        holder["draft"] = services.draft_create(incident=incident, by=request.user, **form.cleaned_data)
        return "Draft saved."

    run_action(request, act)
    return _back(pk, f"draft-{holder['draft'].pk}" if "draft" in holder else "drafts")


@require(TRIAGE_INCIDENTS)
@require_POST
def draft_from_template(request: MemberRequest, pk: int) -> HttpResponse:
    """The one-click holding statement (or any approved template) as a new draft."""
    incident = _incident(pk)
    form = DraftFromTemplateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "drafts")
    holder: dict[str, Draft] = {}

    def act() -> str:
        holder["draft"] = services.draft_create_from_template(
            incident=incident, template=form.cleaned_data["template"], by=request.user
        )
        return "Draft created from the template: fill in what is missing, then submit it for review."

    run_action(request, act)
    return _back(pk, f"draft-{holder['draft'].pk}" if "draft" in holder else "drafts")


@require(TRIAGE_INCIDENTS)
@require_POST
def draft_edit(request: MemberRequest, pk: int, draft_pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=draft_pk, incident_id=pk)
    form = DraftForm(request.POST, instance=Draft(incident_id=pk))
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, f"draft-{draft.pk}")

    def act() -> str:
        updated = services.draft_edit(draft=draft, by=request.user, **form.cleaned_data)
        if updated.status == "in_review" and draft.status == "approved":
            return "Draft saved. It was approved, so it is back in review."
        return "Draft saved."

    run_action(request, act)
    return _back(pk, f"draft-{draft.pk}")


def _draft_step(
    service: Callable[..., Draft], done: str
) -> Callable[[MemberRequest, int, int], HttpResponse]:
    def view(request: MemberRequest, pk: int, draft_pk: int) -> HttpResponse:
        draft = get_object_or_404(Draft, pk=draft_pk, incident_id=pk)

        def act() -> str:
            service(draft=draft, by=request.user)
            return done

        run_action(request, act)
        return _back(pk, f"draft-{draft.pk}")

    return view


draft_submit = require(TRIAGE_INCIDENTS)(
    require_POST(_draft_step(services.draft_submit, "Submitted for review."))
)
draft_approve = require(APPROVE_DRAFTS)(require_POST(_draft_step(services.draft_approve, "Draft approved.")))


@require(APPROVE_DRAFTS)
@require_POST
def draft_return(request: MemberRequest, pk: int, draft_pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=draft_pk, incident_id=pk)
    form = DraftReturnForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def act() -> str:
        services.draft_return(draft=draft, by=request.user, reason=reason)
        return "Draft sent back to its writers."

    run_action(request, act)
    return _back(pk, f"draft-{draft.pk}")


@require(TRIAGE_INCIDENTS)
@require_POST
def draft_publish(request: MemberRequest, pk: int, draft_pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=draft_pk, incident_id=pk)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, f"draft-{draft.pk}")

    def act() -> str:
        services.draft_publish(draft=draft, by=request.user, **form.cleaned_data)
        return "Published and recorded."

    run_action(request, act)
    return _back(pk, f"draft-{draft.pk}")


@require(TRIAGE_INCIDENTS)
@require_POST
def reply_record(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = ReplyForm(request.POST, incident=incident)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back_or_next(request, pk, "response-queue")
    mention = form.cleaned_data["mention"]

    def act() -> str:
        services.reply_record(
            incident=incident,
            mention=mention,
            by=request.user,
            text=form.cleaned_data["text"],
            url=form.cleaned_data["url"],
        )
        return f"Reply to {mention.author or 'anonymous'} recorded."

    run_action(request, act)
    return _back_or_next(request, pk, f"mention-{mention.pk}")


@require(TRIAGE_INCIDENTS)
@require_POST
def evidence_capture(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = EvidenceForm(request.POST, incident=incident)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back_or_next(request, pk, "evidence")

    def act() -> str:
        evidence, created = services.evidence_capture(
            incident=incident,
            mention=form.cleaned_data["mention"],
            by=request.user,
            note=form.cleaned_data["note"],
        )
        if created:
            return f"Evidence captured: SHA-256 {evidence.sha256}"
        return f"Already captured (SHA-256 {evidence.sha256}); nothing changed."

    run_action(request, act)
    return _back_or_next(request, pk, "evidence")


@require(services.SET_RESPONSE_TARGET)
@require_POST
def first_response_set(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = FirstResponseForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "response-queue")

    def act() -> str:
        services.incident_set_first_response(
            incident=incident, minutes=form.cleaned_data["minutes"], by=request.user
        )
        return f"First-response target is now {form.cleaned_data['minutes']} minutes."

    run_action(request, act)
    return _back(pk, "response-queue")


@require(TRIAGE_INCIDENTS)
@require_POST
def public_summary_set(request: MemberRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = PublicSummaryForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back(pk, "public-summary")

    def act() -> str:
        services.incident_set_public_summary(
            incident=incident, summary=form.cleaned_data["public_summary"], by=request.user
        )
        return str(_("Public name of the issue saved; drafts not yet submitted were filled in."))

    run_action(request, act)
    return _back(pk, "public-summary")


@require(TRIAGE_INCIDENTS)
@require_POST
def mention_add(request: MemberRequest, pk: int) -> HttpResponse:
    """Add a mention found in the explorer to the incident; back to ``next`` (the explorer) if given."""
    incident = _incident(pk)
    form = MentionAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _back_or_next(request, pk, "response-queue")
    mention = form.cleaned_data["mention"]

    def act() -> str:
        _mention, added = services.mention_add(incident=incident, mention=mention, by=request.user)
        if added:
            return str(_("Mention added to incident #%(incident)s.") % {"incident": incident.pk})
        return str(_("That mention already belongs to this incident; nothing changed."))

    run_action(request, act)
    return _back_or_next(request, pk, f"mention-{mention.pk}")
