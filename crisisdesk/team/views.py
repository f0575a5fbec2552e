"""The team page: admins add members, change their access role, deactivate and reactivate them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.roles import MANAGE_TEAM, ROLE_CHOICES, ROLES, require
from crisisdesk.team import services
from crisisdesk.team.forms import MemberActiveForm, MemberCreateForm, MemberRoleForm

User = get_user_model()
_NEW_PASSWORD_KEY = "team_new_member_password"


def _role_of(member) -> str | None:
    if member.is_superuser:
        return "admin"
    names = {group.name for group in member.groups.all()}
    return next((role for role in ROLES if role in names), None)


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


@require(MANAGE_TEAM)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    members = list(
        User.objects.order_by("-is_active", "username").prefetch_related(
            Prefetch("groups", queryset=Group.objects.only("name"))
        )
    )
    for member in members:
        member.access_role = _role_of(member)
    # A generated password is shown exactly once: popped from the session on this render.
    new_password = request.session.pop(_NEW_PASSWORD_KEY, None)
    return render(request, "crisisdesk/team.html", {
        "members": members,
        "create_form": MemberCreateForm(),
        "role_choices": ROLE_CHOICES,
        "new_password": new_password,
    })


@require(MANAGE_TEAM)
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    form = MemberCreateForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("team")
    data = form.cleaned_data
    try:
        member, generated = services.member_create(
            username=data["username"], email=data["email"], role=data["role"],
            password=data["password"] or None, by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("team")
    if generated:
        request.session[_NEW_PASSWORD_KEY] = {"username": member.get_username(), "password": generated}
    messages.success(request, f"Added {member.get_username()} as {data['role']}.")
    return redirect("team")


@require(MANAGE_TEAM)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "role: choose a valid role.")
        return redirect("team")
    try:
        services.member_change_role(member=member, role=form.cleaned_data["role"], by=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{member.get_username()} is now {form.cleaned_data['role']}.")
    return redirect("team")


@require(MANAGE_TEAM)
@require_POST
def member_active(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    form = MemberActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "is_active: choose deactivate or reactivate.")
        return redirect("team")
    is_active = form.cleaned_data["is_active"]
    try:
        services.member_set_active(member=member, is_active=is_active, by=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        verb = "reactivated" if is_active else "deactivated"
        messages.success(request, f"{member.get_username()} {verb}.")
    return redirect("team")
