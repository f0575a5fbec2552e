"""Message template pages: write, preview, version and approve the team's prepared statements.

Everyone with a role reads; managers write; approving needs ``APPROVE_TEMPLATES`` and someone other
than the version's author (the services enforce it). Refusals are flashed by
``crisisdesk.web.run_action``; a form page is shown again with what the member typed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from crisisdesk.roles import APPROVE_TEMPLATES, MANAGE_PLAYBOOKS, VIEW_PLAYBOOKS, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import run_action
from playbooks.message_templates import selectors, services
from playbooks.message_templates.forms import PreviewForm, TemplateForm
from playbooks.message_templates.placeholders import (
    PLACEHOLDERS,
    placeholder_errors,
    render_sample,
    sample_values,
)
from playbooks.models import MessageTemplate, Playbook, PlaybookStatus


def _template_page(request: MemberRequest, form: TemplateForm, *, title: str, cancel: str) -> HttpResponse:
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
def template_add(request: MemberRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    form = TemplateForm(
        request.POST or None,
        initial={"kind": request.GET.get("kind"), "language": request.GET.get("language", "en")},
    )
    if request.method == "POST" and form.is_valid():
        created: MessageTemplate | None = None

        def create() -> str:
            nonlocal created
            created = services.template_create(playbook=playbook, by=request.user, **form.cleaned_data)
            if "submit" in request.POST:
                services.template_submit(template=created, by=request.user)
            return f"Template “{created.title}” saved."

        if run_action(request, create):
            assert created is not None  # run_action is True only once create() returned
            return redirect("playbooks:template_detail", pk=created.pk)
    return _template_page(
        request,
        form,
        title=f"New message template for {playbook}",
        cancel=reverse("playbooks:detail", args=[pk]),
    )


@require(VIEW_PLAYBOOKS)
@require_safe
def template_detail(request: MemberRequest, pk: int) -> HttpResponse:
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
def template_edit(request: MemberRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate.objects.select_related("playbook"), pk=pk)
    initial = {name: getattr(template, name) for name in services.TEMPLATE_EDITABLE}
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved: MessageTemplate | None = None

        def save() -> str:
            nonlocal saved
            saved = services.template_edit(template=template, by=request.user, **form.cleaned_data)
            if saved.pk == template.pk:
                return "Template saved."
            messages.info(
                request,
                f"Saved as version {saved.version}, awaiting approval by another manager. "
                f"Version {template.version} stays in use until then.",
            )
            return ""

        if run_action(request, save):
            assert saved is not None  # run_action is True only once save() returned
            return redirect("playbooks:template_detail", pk=saved.pk)
    return _template_page(
        request, form, title=f"Edit template: {template.title} (v{template.version})",
        cancel=reverse("playbooks:template_detail", args=[pk]),
    )  # fmt: skip


def _template_action(
    request: MemberRequest, pk: int, action: Callable[..., MessageTemplate], done: str
) -> HttpResponse:
    """Run an approval button's service on the template and come back to its page."""
    template = get_object_or_404(MessageTemplate, pk=pk)

    def act() -> str:
        action(template=template, by=request.user)
        return done

    run_action(request, act)
    return redirect("playbooks:template_detail", pk=pk)


@require(MANAGE_PLAYBOOKS)
@require_POST
def template_submit(request: MemberRequest, pk: int) -> HttpResponse:
    return _template_action(request, pk, services.template_submit, "Submitted for approval.")


@require(APPROVE_TEMPLATES)
@require_POST
def template_approve(request: MemberRequest, pk: int) -> HttpResponse:
    return _template_action(
        request, pk, services.template_approve, "Approved: this version is now the one in use."
    )


@require(APPROVE_TEMPLATES)
@require_POST
def template_return(request: MemberRequest, pk: int) -> HttpResponse:
    return _template_action(
        request, pk, services.template_return_to_draft, "Sent back to its author as a draft."
    )


@require(MANAGE_PLAYBOOKS)
@require_POST
def template_preview(request: MemberRequest) -> HttpResponse:
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
def approvals(request: MemberRequest) -> HttpResponse:
    return render(request, "playbooks/approvals.html", {"templates": selectors.pending_templates()})
