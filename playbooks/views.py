"""Playbook pages. Everyone with a role reads; managers write (403 otherwise); writes go to services.

A refusal from a service (``PlaybookError``) is flashed by ``crisisdesk.web.run_action``: a button
lands back on the playbook, a form page is shown again with what the member typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from crisisdesk.roles import MANAGE_PLAYBOOKS, VIEW_PLAYBOOKS, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import run_action
from playbooks import selectors, services
from playbooks.forms import ChecklistItemForm, PlaybookForm, RoleForm, ScenarioForm
from playbooks.message_templates.selectors import template_families
from playbooks.models import ChecklistItem, CrisisRole, Playbook, PlaybookStatus, Scenario


def _form_page(
    request: MemberRequest, form: forms.Form, *, title: str, cancel: str, **extra: Any
) -> HttpResponse:
    return render(request, "playbooks/form.html", {"form": form, "title": title, "cancel": cancel, **extra})


def _followed(request: MemberRequest, before: Playbook, after: Playbook) -> None:
    """Tell the member when their edit landed on a new version."""
    if after.pk != before.pk:
        messages.info(
            request,
            f"Saved as version {after.version}; version {before.version} is retired and kept as history.",
        )


def _part_change(
    request: MemberRequest, before: Playbook, change: Callable[[], Playbook], *, done: str = ""
) -> Playbook | None:
    """Run a service that changes a part of ``before`` (a role or a checklist step).

    ``change`` returns the playbook the change landed on: an edit to an active playbook that is in
    use lands on a new version. Returns that playbook, or None when the service refused (flashed).
    """
    landed: Playbook | None = None

    def act() -> str:
        nonlocal landed
        landed = change()
        _followed(request, before, landed)
        return done

    run_action(request, act)
    return landed


# --- Library and playbooks -------------------------------------------------------------------


@require(VIEW_PLAYBOOKS)
@require_safe
def playbook_list(request: MemberRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in PlaybookStatus.values:
        status = ""
    playbooks = selectors.playbook_list(status=status or None)
    return render(
        request,
        "playbooks/playbook_list.html",
        {
            "playbooks": playbooks,
            "status": status,
            "statuses": PlaybookStatus.choices,
            "scenarios_without_playbook": selectors.scenarios_without_playbook(),
        },
    )


@require(VIEW_PLAYBOOKS)
@require_safe
def playbook_detail(request: MemberRequest, pk: int) -> HttpResponse:
    try:
        playbook = selectors.playbook_get(pk=pk)
    except Playbook.DoesNotExist as exc:
        raise Http404("No such playbook.") from exc
    return render(
        request,
        "playbooks/playbook_detail.html",
        {
            "playbook": playbook,
            "scenario": playbook.scenario,
            "phases": selectors.checklist_by_phase(playbook=playbook),
            "families": template_families(playbook=playbook),
            "versions": selectors.playbook_versions(playbook=playbook),
            "editable": playbook.status != PlaybookStatus.RETIRED,
        },
    )


@require(MANAGE_PLAYBOOKS)
def playbook_create(request: MemberRequest) -> HttpResponse:
    form = PlaybookForm(request.POST or None, initial={"scenario": request.GET.get("scenario")})
    if request.method == "POST" and form.is_valid():
        playbook = services.playbook_create(by=request.user, **form.cleaned_data)
        if playbook.status == PlaybookStatus.DRAFT:
            messages.info(
                request,
                "Created as a draft: the scenario already has an active playbook. Activate it when ready.",
            )
        return redirect("playbooks:detail", pk=playbook.pk)
    return _form_page(request, form, title="New playbook", cancel=reverse("playbooks:list"))


@require(MANAGE_PLAYBOOKS)
def playbook_edit(request: MemberRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = PlaybookForm(request.POST or None, playbook=playbook)
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            services.playbook_update(playbook=playbook, by=request.user, **form.cleaned_data)
            return ""

        if run_action(request, save):
            return redirect("playbooks:detail", pk=playbook.pk)
    return _form_page(request, form, title=f"Edit {playbook}", cancel=reverse("playbooks:detail", args=[pk]))


def _playbook_action(
    request: MemberRequest, pk: int, action: Callable[..., Playbook], done: str
) -> HttpResponse:
    """Run a version button's service; land on the version it produced (the same one if refused)."""
    result = get_object_or_404(Playbook, pk=pk)

    def act() -> str:
        nonlocal result
        result = action(playbook=result, by=request.user)
        return done.format(version=result.version)

    run_action(request, act)
    return redirect("playbooks:detail", pk=result.pk)


@require(MANAGE_PLAYBOOKS)
@require_POST
def playbook_new_version(request: MemberRequest, pk: int) -> HttpResponse:
    return _playbook_action(
        request,
        pk,
        services.playbook_new_version,
        "Version {version} is now active; the previous one is retired.",
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def playbook_activate(request: MemberRequest, pk: int) -> HttpResponse:
    return _playbook_action(
        request, pk, services.playbook_activate, "Version {version} is now the active playbook."
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def playbook_retire(request: MemberRequest, pk: int) -> HttpResponse:
    return _playbook_action(request, pk, services.playbook_retire, "Version {version} is retired.")


# --- Scenarios -------------------------------------------------------------------------------


@require(MANAGE_PLAYBOOKS)
def scenario_create(request: MemberRequest) -> HttpResponse:
    form = ScenarioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created: Scenario | None = None

        def create() -> str:
            nonlocal created
            created = services.scenario_create(by=request.user, **form.cleaned_data)
            return f"Scenario “{created.name}” created; now give it a playbook."

        if run_action(request, create):
            assert created is not None  # run_action is True only once create() returned
            return redirect(f"{reverse('playbooks:create')}?scenario={created.pk}")
    return _form_page(request, form, title="New scenario", cancel=reverse("playbooks:list"))


@require(MANAGE_PLAYBOOKS)
def scenario_edit(request: MemberRequest, pk: int) -> HttpResponse:
    scenario = get_object_or_404(Scenario, pk=pk)
    back = request.GET.get("playbook")
    cancel = (
        reverse("playbooks:detail", args=[back]) if back and back.isdigit() else reverse("playbooks:list")
    )
    form = ScenarioForm(request.POST or None, scenario=scenario)
    if request.method == "POST" and form.is_valid():
        services.scenario_update(scenario=scenario, by=request.user, **form.cleaned_data)
        messages.success(request, f"Scenario “{scenario.name}” saved.")
        return redirect(cancel)
    return _form_page(request, form, title=f"Edit scenario: {scenario.name}", cancel=cancel)


# --- Crisis roles and checklist ----------------------------------------------------------------


@require(MANAGE_PLAYBOOKS)
def role_add(request: MemberRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        landed = _part_change(
            request,
            playbook,
            lambda: services.role_add(playbook=playbook, by=request.user, **form.cleaned_data).playbook,
        )
        if landed is not None:
            return redirect("playbooks:detail", pk=landed.pk)
    return _form_page(
        request, form, title=f"Add a crisis role to {playbook}", cancel=reverse("playbooks:detail", args=[pk])
    )


@require(MANAGE_PLAYBOOKS)
def role_edit(request: MemberRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(CrisisRole.objects.select_related("playbook"), pk=pk)
    initial = {"name": role.name, "responsibilities": role.responsibilities, "order": role.order}
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v is not None}
        landed = _part_change(
            request,
            role.playbook,
            lambda: services.role_edit(role=role, by=request.user, **changes).playbook,
        )
        if landed is not None:
            return redirect("playbooks:detail", pk=landed.pk)
    return _form_page(
        request,
        form,
        title=f"Edit crisis role: {role.name}",
        cancel=reverse("playbooks:detail", args=[role.playbook_id]),
        delete_url=reverse("playbooks:role_remove", args=[role.pk]),
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def role_remove(request: MemberRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(CrisisRole.objects.select_related("playbook"), pk=pk)
    landed = _part_change(
        request,
        role.playbook,
        lambda: services.role_remove(role=role, by=request.user),
        done=f"Removed the role “{role.name}”.",
    )
    return redirect("playbooks:detail", pk=(landed or role.playbook).pk)


@require(MANAGE_PLAYBOOKS)
def checklist_add(request: MemberRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = ChecklistItemForm(
        request.POST or None, playbook=playbook, initial={"phase": request.GET.get("phase", "during")}
    )
    if request.method == "POST" and form.is_valid():
        landed = _part_change(
            request,
            playbook,
            lambda: (
                services.checklist_item_add(playbook=playbook, by=request.user, **form.cleaned_data).playbook
            ),
        )
        if landed is not None:
            return redirect("playbooks:detail", pk=landed.pk)
    return _form_page(
        request,
        form,
        title=f"Add a checklist step to {playbook}",
        cancel=reverse("playbooks:detail", args=[pk]),
    )


@require(MANAGE_PLAYBOOKS)
def checklist_edit(request: MemberRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ChecklistItem.objects.select_related("playbook", "role"), pk=pk)
    initial = {
        "phase": item.phase, "title": item.title, "description": item.description, "role": item.role,
        "due_offset_minutes": item.due_offset_minutes, "order": item.order,
    }  # fmt: skip
    form = ChecklistItemForm(request.POST or None, playbook=item.playbook, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        if changes["order"] is None:
            del changes["order"]
        landed = _part_change(
            request,
            item.playbook,
            lambda: services.checklist_item_edit(item=item, by=request.user, **changes).playbook,
        )
        if landed is not None:
            return redirect("playbooks:detail", pk=landed.pk)
    return _form_page(
        request,
        form,
        title=f"Edit checklist step: {item.title}",
        cancel=reverse("playbooks:detail", args=[item.playbook_id]),
        delete_url=reverse("playbooks:checklist_remove", args=[item.pk]),
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def checklist_remove(request: MemberRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ChecklistItem.objects.select_related("playbook"), pk=pk)
    landed = _part_change(
        request,
        item.playbook,
        lambda: services.checklist_item_remove(item=item, by=request.user),
        done=f"Removed the step “{item.title}”.",
    )
    return redirect("playbooks:detail", pk=(landed or item.playbook).pk)
