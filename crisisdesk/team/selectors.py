"""Reads for the team page: every member with the access role their groups give."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch

from crisisdesk.roles import ADMIN, ROLES
from crisisdesk.types import Member


def held_role(member: Member) -> str | None:
    """The access role ``member``'s groups give (admin for a superuser), active or not.

    Unlike ``crisisdesk.roles.user_role`` (None for a deactivated member: they may do nothing), this
    is the role a deactivated member keeps and gets back when reactivated. Uses prefetched groups.
    """
    if member.is_superuser:
        return ADMIN
    names = {group.name for group in member.groups.all()}
    return next((role for role in ROLES if role in names), None)


def team_members() -> list[Member]:
    """Every member, active ones first then by username, each with ``access_role`` set."""
    members = list(
        get_user_model()
        .objects.order_by("-is_active", "username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
    )
    for member in members:
        # A display attribute the team page (and its tests) read off each row; User has no such
        # field, and a proxy model or wrapper row would change what the page receives.
        member.access_role = held_role(member)  # type: ignore[attr-defined]
    return members
