"""The preferences page, the header's language switcher and the team's defaults."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisdesk.models import MemberPreferences
from crisisdesk.preferences.forms import LanguageSwitchForm, PreferencesForm, TeamDefaultsForm
from crisisdesk.preferences.locale import remember_locale
from crisisdesk.preferences.selectors import member_locale, team_settings
from crisisdesk.preferences.services import preferences_language_set, preferences_set, team_defaults_set
from crisisdesk.roles import MANAGE_TEAM, require
from crisisdesk.types import MemberRequest
from crisisdesk.web import form_error, run_action


@login_required
def preferences(request: MemberRequest) -> HttpResponse:
    own = MemberPreferences.objects.filter(member=request.user).first()
    team = team_settings()
    initial = {"language": own.language if own else "", "time_zone": own.time_zone if own else ""}
    form = PreferencesForm(
        request.POST or None, initial=initial, team_label=f"{team.language}, {team.time_zone}"
    )
    if request.method == "POST" and form.is_valid():

        def save() -> str:
            preferences_set(member=request.user, by=request.user, **form.cleaned_data)
            remember_locale(request, member_locale(request.user))
            return _("Preferences saved.")

        if run_action(request, save):
            return redirect("preferences")
    return render(request, "crisisdesk/preferences.html", {"form": form, "team": team})


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_POST
def language_switch(request: MemberRequest) -> HttpResponse:
    """The header's switcher: keeps the member's time zone, sets their language, goes back."""
    form = LanguageSwitchForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect(_safe_next(request, request.POST.get("next", "")))

    def switch() -> str:
        preferences_language_set(member=request.user, language=form.cleaned_data["language"], by=request.user)
        remember_locale(request, member_locale(request.user))
        return ""

    run_action(request, switch)
    return redirect(_safe_next(request, form.cleaned_data["next"]))


@require(MANAGE_TEAM)
@require_POST
def team_defaults(request: MemberRequest) -> HttpResponse:
    form = TeamDefaultsForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect("team")

    def save() -> str:
        team_defaults_set(by=request.user, **form.cleaned_data)
        remember_locale(request, member_locale(request.user))
        return _("Team defaults saved: members who chose none now see them.")

    run_action(request, save)
    return redirect("team")
