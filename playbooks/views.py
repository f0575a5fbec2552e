"""Playbook pages. Everyone with a role reads; managers write (403 otherwise); writes go to services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from crisisdesk.roles import APPROVE_TEMPLATES, MANAGE_PLAYBOOKS, VIEW_PLAYBOOKS, require
from playbooks import selectors, services
from playbooks.forms import ChecklistItemForm, PlaybookForm, PreviewForm, RoleForm, ScenarioForm, TemplateForm
from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, PlaybookStatus, Scenario
from playbooks.rendering import PLACEHOLDERS, placeholder_errors, render_sample, sample_values


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel: str, **extra: Any) -> HttpResponse:
    return render(request, "playbooks/form.html", {"form": form, "title": title, "cancel": cancel, **extra})


def _followed(request: HttpRequest, before: Playbook, after: Playbook) -> None:
    """Tell the member when their edit landed on a new version."""
    if after.pk != before.pk:
        messages.info(
            request,
            f"Saved as version {after.version}; version {before.version} is retired and kept as history.",
        )


# --- Library and playbooks -------------------------------------------------------------------


@require(VIEW_PLAYBOOKS)
@require_safe
def playbook_list(request: HttpRequest) -> HttpResponse:
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
def playbook_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
            "families": selectors.template_families(playbook=playbook),
            "versions": selectors.playbook_versions(playbook=playbook),
            "editable": playbook.status != PlaybookStatus.RETIRED,
        },
    )


@require(MANAGE_PLAYBOOKS)
def playbook_create(request: HttpRequest) -> HttpResponse:
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
def playbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = PlaybookForm(request.POST or None, playbook=playbook)
    if request.method == "POST" and form.is_valid():
        try:
            services.playbook_update(playbook=playbook, by=request.user, **form.cleaned_data)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("playbooks:detail", pk=playbook.pk)
    return _form_page(request, form, title=f"Edit {playbook}", cancel=reverse("playbooks:detail", args=[pk]))


def _playbook_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    try:
        result = action(playbook=playbook, by=request.user)
    except services.PlaybookError as exc:
        messages.error(request, str(exc))
        return redirect("playbooks:detail", pk=pk)
    messages.success(request, done.format(version=result.version))
    return redirect("playbooks:detail", pk=result.pk)


@require(MANAGE_PLAYBOOKS)
@require_POST
def playbook_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    return _playbook_action(
        request,
        pk,
        services.playbook_new_version,
        "Version {version} is now active; the previous one is retired.",
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def playbook_activate(request: HttpRequest, pk: int) -> HttpResponse:
    return _playbook_action(
        request, pk, services.playbook_activate, "Version {version} is now the active playbook."
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def playbook_retire(request: HttpRequest, pk: int) -> HttpResponse:
    return _playbook_action(request, pk, services.playbook_retire, "Version {version} is retired.")


# --- Scenarios -------------------------------------------------------------------------------


@require(MANAGE_PLAYBOOKS)
def scenario_create(request: HttpRequest) -> HttpResponse:
    form = ScenarioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.scenario_create(by=request.user, **form.cleaned_data)
        except services.PlaybookError as exc:
            form.add_error("type", str(exc))
        else:
            messages.success(request, f"Scenario “{scenario.name}” created; now give it a playbook.")
            return redirect(f"{reverse('playbooks:create')}?scenario={scenario.pk}")
    return _form_page(request, form, title="New scenario", cancel=reverse("playbooks:list"))


@require(MANAGE_PLAYBOOKS)
def scenario_edit(request: HttpRequest, pk: int) -> HttpResponse:
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
def role_add(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = services.role_add(playbook=playbook, by=request.user, **form.cleaned_data)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            _followed(request, playbook, role.playbook)
            return redirect("playbooks:detail", pk=role.playbook_id)
    return _form_page(
        request, form, title=f"Add a crisis role to {playbook}", cancel=reverse("playbooks:detail", args=[pk])
    )


@require(MANAGE_PLAYBOOKS)
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(CrisisRole.objects.select_related("playbook"), pk=pk)
    initial = {"name": role.name, "responsibilities": role.responsibilities, "order": role.order}
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v is not None}
        try:
            edited = services.role_edit(role=role, by=request.user, **changes)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            _followed(request, role.playbook, edited.playbook)
            return redirect("playbooks:detail", pk=edited.playbook_id)
    return _form_page(
        request, form, title=f"Edit crisis role: {role.name}", cancel=reverse("playbooks:detail", args=[role.playbook_id]),
        delete_url=reverse("playbooks:role_remove", args=[role.pk]),
    )  # fmt: skip


@require(MANAGE_PLAYBOOKS)
@require_POST
def role_remove(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(CrisisRole.objects.select_related("playbook"), pk=pk)
    try:
        target = services.role_remove(role=role, by=request.user)
    except services.PlaybookError as exc:
        messages.error(request, str(exc))
        return redirect("playbooks:detail", pk=role.playbook_id)
    _followed(request, role.playbook, target)
    messages.success(request, f"Removed the role “{role.name}”.")
    return redirect("playbooks:detail", pk=target.pk)


@require(MANAGE_PLAYBOOKS)
def checklist_add(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = ChecklistItemForm(
        request.POST or None, playbook=playbook, initial={"phase": request.GET.get("phase", "during")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.checklist_item_add(playbook=playbook, by=request.user, **form.cleaned_data)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            _followed(request, playbook, item.playbook)
            return redirect("playbooks:detail", pk=item.playbook_id)
    return _form_page(
        request,
        form,
        title=f"Add a checklist step to {playbook}",
        cancel=reverse("playbooks:detail", args=[pk]),
    )


@require(MANAGE_PLAYBOOKS)
def checklist_edit(request: HttpRequest, pk: int) -> HttpResponse:
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
        try:
            edited = services.checklist_item_edit(item=item, by=request.user, **changes)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            _followed(request, item.playbook, edited.playbook)
            return redirect("playbooks:detail", pk=edited.playbook_id)
    return _form_page(
        request, form, title=f"Edit checklist step: {item.title}", cancel=reverse("playbooks:detail", args=[item.playbook_id]),
        delete_url=reverse("playbooks:checklist_remove", args=[item.pk]),
    )  # fmt: skip


@require(MANAGE_PLAYBOOKS)
@require_POST
def checklist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ChecklistItem.objects.select_related("playbook"), pk=pk)
    try:
        target = services.checklist_item_remove(item=item, by=request.user)
    except services.PlaybookError as exc:
        messages.error(request, str(exc))
        return redirect("playbooks:detail", pk=item.playbook_id)
    _followed(request, item.playbook, target)
    messages.success(request, f"Removed the step “{item.title}”.")
    return redirect("playbooks:detail", pk=target.pk)


# --- Message templates -------------------------------------------------------------------------


def _template_page(request: HttpRequest, form: TemplateForm, *, title: str, cancel: str) -> HttpResponse:
    language = form["language"].value() or "en"
    body = form["body"].value() or ""
    return render(
        request,
        "playbooks/template_form.html",
        {
            "form": form, "title": title, "cancel": cancel, "placeholders": PLACEHOLDERS,
            "preview": render_sample(body, language), "preview_errors": placeholder_errors(body),
        },
    )  # fmt: skip


@require(MANAGE_PLAYBOOKS)
def template_add(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = TemplateForm(
        request.POST or None,
        initial={"kind": request.GET.get("kind"), "language": request.GET.get("language", "en")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(playbook=playbook, by=request.user, **form.cleaned_data)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            if "submit" in request.POST:
                services.template_submit(template=template, by=request.user)
            messages.success(request, f"Template “{template.title}” saved.")
            return redirect("playbooks:template_detail", pk=template.pk)
    return _template_page(
        request,
        form,
        title=f"New message template for {playbook}",
        cancel=reverse("playbooks:detail", args=[pk]),
    )


@require(VIEW_PLAYBOOKS)
@require_safe
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(
        MessageTemplate.objects.select_related("playbook", "playbook__scenario", "author", "approved_by"),
        pk=pk,
    )
    history = list(selectors.template_history(template=template))
    return render(
        request,
        "playbooks/template_detail.html",
        {
            "template": template,
            "history": history,
            "is_latest": history[0].pk == template.pk,
            "preview": render_sample(template.body, template.language),
            "editable": template.playbook.status != PlaybookStatus.RETIRED,
        },
    )


@require(MANAGE_PLAYBOOKS)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate.objects.select_related("playbook"), pk=pk)
    initial = {name: getattr(template, name) for name in services.TEMPLATE_EDITABLE}
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.template_edit(template=template, by=request.user, **form.cleaned_data)
        except services.PlaybookError as exc:
            form.add_error(None, str(exc))
        else:
            if saved.pk != template.pk:
                messages.info(
                    request,
                    f"Saved as version {saved.version}, awaiting approval by another manager. "
                    f"Version {template.version} stays in use until then.",
                )
            else:
                messages.success(request, "Template saved.")
            return redirect("playbooks:template_detail", pk=saved.pk)
    return _template_page(
        request, form, title=f"Edit template: {template.title} (v{template.version})",
        cancel=reverse("playbooks:template_detail", args=[pk]),
    )  # fmt: skip


def _template_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=pk)
    try:
        action(template=template, by=request.user)
    except services.PlaybookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("playbooks:template_detail", pk=pk)


@require(MANAGE_PLAYBOOKS)
@require_POST
def template_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(request, pk, services.template_submit, "Submitted for approval.")


@require(APPROVE_TEMPLATES)
@require_POST
def template_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(
        request, pk, services.template_approve, "Approved: this version is now the one in use."
    )


@require(APPROVE_TEMPLATES)
@require_POST
def template_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(
        request, pk, services.template_return_to_draft, "Sent back to its author as a draft."
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the body rendered with sample values, as an escaped fragment."""
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "playbooks/_preview.html",
            {"preview": "", "preview_errors": [e for errs in form.errors.values() for e in errs]},
            status=400,
        )
    body = form.cleaned_data["body"]
    language = form.cleaned_data["language"] or "en"
    return render(
        request,
        "playbooks/_preview.html",
        {
            "preview": render_sample(body, language),
            "preview_errors": placeholder_errors(body),
            "samples": sample_values(language),
        },
    )


@require(APPROVE_TEMPLATES)
@require_safe
def approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "playbooks/approvals.html", {"templates": selectors.pending_templates()})
