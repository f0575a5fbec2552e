"""The team's side of dark sites: the list, preparing a site's words, previews, switching on and
off, and the incident page's dark-site panel with publishing. Each POST validates a form, calls one
service in ``incidents.publishing.services`` and redirects back with the outcome as a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.roles import SWITCH_DARKSITE, TRIAGE_INCIDENTS, VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import form_error, run_action
from incidents.models import DarkSite, DarkSiteState, Draft, Incident
from incidents.publishing import selectors, services
from incidents.publishing.forms import (
    ContentForm,
    DarksitePublishForm,
    FaqFormSet,
    LogoForm,
    NextUpdateForm,
    PrepareForm,
)
from incidents.publishing.public import render_public_page
from monitoring.models import Watch

PANEL = "incidents/publishing/_panel.html"


def panel_context(request: MemberRequest, incident: Incident) -> dict[str, Any]:
    """The incident page's dark-site panel (fits ``INCIDENT_PANEL_CONTEXT``)."""
    site = selectors.site_for_watch(incident.watch)
    live_here = site is not None and site.state == DarkSiteState.LIVE and site.incident_id == incident.pk
    context: dict[str, Any] = {
        "dark_site": site,
        "dark_site_live_here": live_here,
        "dark_site_url": selectors.public_url(site) if site else "",
        "next_update_form": NextUpdateForm(initial={"next_update_due": incident.next_update_due}),
    }
    if site is not None and site.incident_id == incident.pk:
        context["dark_site_updates"] = list(
            selectors.published_originals(site, incident).prefetch_related("translations")
        )
    if live_here:
        # The publish forms' choices are the list above, rendered by the template: one query for
        # all approved drafts, not one per draft and select.
        context["dark_site_drafts"] = list(selectors.publishable_drafts(incident))
    return context


def _site(pk: int) -> DarkSite:
    return get_object_or_404(DarkSite.objects.select_related("watch", "incident"), pk=pk)


@require(VIEW_INCIDENTS)
@require_GET
def site_list(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "incidents/publishing/site_list.html",
        {"watches": selectors.site_list(), "prepare_form": PrepareForm()},
    )


@require(SWITCH_DARKSITE)
@require_POST
def site_prepare(request: MemberRequest, watch_pk: int) -> HttpResponse:
    watch = get_object_or_404(Watch, pk=watch_pk)
    form = PrepareForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect("incidents:darksites")
    created: list[DarkSite] = []

    def act() -> str:
        created.append(
            services.darksite_prepare(watch=watch, slug=form.cleaned_data["slug"], by=request.user)
        )
        return _("Dark site prepared. It stays dark until someone switches it on for an incident.")

    if run_action(request, act):
        return redirect("incidents:darksite", pk=created[0].pk)
    return redirect("incidents:darksites")


def _content_forms(site: DarkSite, language: str, data: Any = None) -> tuple[ContentForm, Any]:
    content = selectors.site_contents(site).get(language)
    initial = (
        {
            "title": content.title,
            "background": content.background,
            "customer_contact": content.customer_contact,
            "press_contact": content.press_contact,
            "resolved_notice": content.resolved_notice,
        }
        if content
        else {"title": site.watch.name}
    )
    faq_initial = content.faq if content else []
    return ContentForm(data, initial=initial), FaqFormSet(data, initial=faq_initial, prefix="faq")


@require(VIEW_INCIDENTS)
def site_detail(request: MemberRequest, pk: int) -> HttpResponse:
    """A site's prepared words in one language (``?lang=``) and its state; managers edit them here."""
    if request.method == "POST" and not request.user.has_perm(SWITCH_DARKSITE):
        raise PermissionDenied(_("Your role may not prepare dark sites."))
    site = _site(pk)
    languages = selectors.site_languages(site.watch)
    requested = request.GET.get("lang", "")
    language = requested if requested in languages else languages[0]
    if request.method == "POST":
        form, faq = _content_forms(site, language, request.POST)
        if form.is_valid() and faq.is_valid():

            def act() -> str:
                services.darksite_content_save(
                    site=site,
                    language=language,
                    by=request.user,
                    faq=[entry for entry in faq.cleaned_data if entry],
                    **form.cleaned_data,
                )
                return _("Saved the %(language)s words.") % {"language": language}

            if run_action(request, act):
                return redirect(reverse("incidents:darksite", kwargs={"pk": site.pk}) + f"?lang={language}")
        else:
            messages.error(request, form_error(form) if not form.is_valid() else _("Check the FAQ entries."))
    else:
        form, faq = _content_forms(site, language)
    prepared = set(selectors.site_contents(site))
    return render(
        request,
        "incidents/publishing/site_detail.html",
        {
            "site": site,
            "site_url": selectors.public_url(site),
            "languages": [(code, code in prepared) for code in languages],
            "language": language,
            "form": form,
            "faq": faq,
            "logo_form": LogoForm(),
        },
    )


@require(SWITCH_DARKSITE)
@require_POST
def site_logo(request: MemberRequest, pk: int) -> HttpResponse:
    site = _site(pk)
    if request.POST.get("clear"):

        def clear() -> str:
            services.darksite_set_logo(site=site, logo="", by=request.user)
            return _("Logo removed.")

        run_action(request, clear)
        return redirect("incidents:darksite", pk=site.pk)
    form = LogoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect("incidents:darksite", pk=site.pk)

    def act() -> str:
        services.darksite_set_logo(site=site, logo=form.cleaned_data["logo"], by=request.user)
        return _("Logo saved.")

    run_action(request, act)
    return redirect("incidents:darksite", pk=site.pk)


@require(VIEW_INCIDENTS)
@require_GET
def site_preview(request: MemberRequest, pk: int) -> HttpResponse:
    """The public page as it would look (dark too), for the team only: never cached anywhere."""
    site = _site(pk)
    languages = selectors.site_languages(site.watch)
    language = selectors.reader_language(languages=languages, requested=request.GET.get("lang", ""))
    response = HttpResponse(render_public_page(selectors.public_page(site, language), preview=True))
    response["Cache-Control"] = "private, no-store"
    return response


@require(SWITCH_DARKSITE)
@require_POST
def site_go_live(request: MemberRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.select_related("watch"), pk=pk)
    site = selectors.site_for_watch(incident.watch)
    if site is None:
        messages.error(request, _("This watch has no dark site yet; prepare one first."))
    else:

        def act() -> str:
            services.darksite_go_live(site=site, incident=incident, by=request.user)
            return _("The dark site is live.")

        run_action(request, act)
    return redirect(reverse("incidents:detail", kwargs={"pk": pk}) + "#dark-site")


@require(SWITCH_DARKSITE)
@require_POST
def site_switch_off(request: MemberRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.select_related("watch"), pk=pk)
    site = selectors.site_for_watch(incident.watch)
    if site is None or site.incident_id != incident.pk:
        messages.error(request, _("The dark site is not live for this incident."))
    else:

        def act() -> str:
            services.darksite_switch_off(site=site, by=request.user)
            return _("The dark site shows the resolved notice now.")

        run_action(request, act)
    return redirect(reverse("incidents:detail", kwargs={"pk": pk}) + "#dark-site")


@require(TRIAGE_INCIDENTS)
@require_POST
def draft_publish(request: MemberRequest, pk: int, draft_pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft.objects.select_related("incident"), pk=draft_pk, incident_id=pk)
    form = DarksitePublishForm(request.POST, incident=draft.incident)
    if not form.is_valid():
        messages.error(request, form_error(form))
    else:

        def act() -> str:
            services.darksite_publish(draft=draft, by=request.user, **form.cleaned_data)
            return _("Published on the dark site.")

        run_action(request, act)
    return redirect(reverse("incidents:detail", kwargs={"pk": pk}) + "#dark-site")


@require(TRIAGE_INCIDENTS)
@require_POST
def next_update_set(request: MemberRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    form = NextUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
    else:
        due = form.cleaned_data["next_update_due"]

        def act() -> str:
            services.incident_set_next_update_due(incident=incident, due=due, by=request.user)
            return _("Next update promised.") if due else _("Next update promise cleared.")

        run_action(request, act)
    return redirect(reverse("incidents:detail", kwargs={"pk": pk}) + "#dark-site")
