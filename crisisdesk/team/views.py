"""The team page: admins add members, change their access role, deactivate and reactivate them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.preferences.forms import TeamDefaultsForm
from crisisdesk.preferences.selectors import team_settings
from crisisdesk.roles import MANAGE_TEAM, ROLE_CHOICES, require
from crisisdesk.team import selectors, services
from crisisdesk.team.forms import MemberActiveForm, MemberCreateForm, MemberRoleForm
from crisisdesk.types import MemberRequest
from crisisdesk.web import form_error, run_action

User = get_user_model()
_NEW_PASSWORD_KEY = "team_new_member_password"


@require(MANAGE_TEAM)
@require_GET
def team(request: MemberRequest) -> HttpResponse:
    # A generated password is shown exactly once: popped from the session on this render.
    new_password = request.session.pop(_NEW_PASSWORD_KEY, None)
    return render(
        request,
        "crisisdesk/team.html",
        {
            "members": selectors.team_members(),
            "create_form": MemberCreateForm(),
            "role_choices": ROLE_CHOICES,
            "new_password": new_password,
            "defaults_form": TeamDefaultsForm(
                initial={"language": (team := team_settings()).language, "time_zone": team.time_zone}
            ),
        },
    )


@require(MANAGE_TEAM)
@require_POST
def member_add(request: MemberRequest) -> HttpResponse:
    form = MemberCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect("team")
    data = form.cleaned_data

    def add() -> str:
        member, generated = services.member_create(
            username=data["username"],
            email=data["email"],
            role=data["role"],
            password=data["password"] or None,
            by=request.user,
        )
        if generated:
            request.session[_NEW_PASSWORD_KEY] = {"username": member.get_username(), "password": generated}
        return f"Added {member.get_username()} as {data['role']}."

    run_action(request, add)
    return redirect("team")


@require(MANAGE_TEAM)
@require_POST
def member_role(request: MemberRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "role: choose a valid role.")
        return redirect("team")
    role = form.cleaned_data["role"]

    def change() -> str:
        services.member_change_role(member=member, role=role, by=request.user)
        return f"{member.get_username()} is now {role}."

    run_action(request, change)
    return redirect("team")


@require(MANAGE_TEAM)
@require_POST
def member_active(request: MemberRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    form = MemberActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "is_active: choose deactivate or reactivate.")
        return redirect("team")
    is_active = form.cleaned_data["is_active"]

    def switch() -> str:
        services.member_set_active(member=member, is_active=is_active, by=request.user)
        return f"{member.get_username()} {'reactivated' if is_active else 'deactivated'}."

    run_action(request, switch)
    return redirect("team")
