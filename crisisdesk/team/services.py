"""Team membership writes: add members, change their access role, deactivate and reactivate them.

Guard rails: nobody can lock the team out. The last active admin cannot be demoted or
deactivated, and an admin cannot demote or deactivate themselves (another admin must). The
active admins are locked (``select_for_update``) while checking, so two admins demoting each
other at the same moment cannot both succeed.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from crisisdesk.audit.services import audit_record
from crisisdesk.errors import Refusal
from crisisdesk.roles import ADMIN, MANAGE_TEAM, ROLES, ensure_permission
from crisisdesk.team.selectors import held_role
from crisisdesk.types import Member

User = get_user_model()

_NOT_ADMIN = "Only admins manage the team."


class TeamError(Refusal):
    """A team change the guard rails refuse (shown to the admin; 409 in an API)."""


def _lock_active_admins() -> list[int]:
    """Lock and return the ids of active admins (group admin or superuser)."""
    admins = (
        User.objects.select_for_update(of=("self",))
        .filter(Q(is_active=True) & (Q(groups__name=ADMIN) | Q(is_superuser=True)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sorted(set(admins))


def _member_state(member: Member) -> dict[str, str | bool | None]:
    return {"role": held_role(member), "is_active": member.is_active}


def generate_password() -> str:
    """A random initial password, shown once to the admin who created the member."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def member_create(
    *, username: str, email: str, role: str, by: Member, password: str | None = None
) -> tuple[Member, str | None]:
    """Add a member with ``role``. Returns the member and the generated password (None if one was given)."""
    ensure_permission(by, MANAGE_TEAM, _NOT_ADMIN)
    if role not in ROLES:
        raise ValidationError({"role": f"Choose one of: {', '.join(ROLES)}."})
    username = username.strip()
    if not username:
        raise ValidationError({"username": "A username is required."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken."})
    generated = None
    if not password:
        password = generated = generate_password()
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    try:
        with transaction.atomic():
            member = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:  # a colleague added the same username a moment ago
        raise ValidationError({"username": "That username is taken."}) from exc
    member.groups.add(Group.objects.get(name=role))
    audit_record(actor=by, action="team.member.add", target=member, after={"role": role, "email": email})
    return member, generated


@transaction.atomic
def member_change_role(*, member: Member, role: str, by: Member) -> Member:
    """Give ``member`` exactly one access role."""
    ensure_permission(by, MANAGE_TEAM, _NOT_ADMIN)
    if role not in ROLES:
        raise ValidationError({"role": f"Choose one of: {', '.join(ROLES)}."})
    admins = _lock_active_admins()
    member = User.objects.select_for_update().get(pk=member.pk)
    before = _member_state(member)
    if before["role"] == role:
        raise TeamError(f"{member.get_username()} is already {role}.")
    if role != ADMIN and member.pk in admins:
        if member.pk == by.pk:
            raise TeamError("You cannot demote yourself; ask another admin.")
        if len(admins) <= 1:
            raise TeamError("This is the last active admin; make someone else admin first.")
        if member.is_superuser:
            raise TeamError("A superuser stays admin; change that in Django admin.")
    member.groups.remove(*Group.objects.filter(name__in=ROLES))
    member.groups.add(Group.objects.get(name=role))
    audit_record(
        actor=by,
        action="team.member.role",
        target=member,
        before=before,
        after={"role": role, "is_active": member.is_active},
    )
    return member


@transaction.atomic
def member_set_active(*, member: Member, is_active: bool, by: Member) -> Member:
    """Deactivate (sign-in refused, history kept) or reactivate a member."""
    ensure_permission(by, MANAGE_TEAM, _NOT_ADMIN)
    admins = _lock_active_admins()
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.is_active == is_active:
        raise TeamError(f"{member.get_username()} is already {'active' if is_active else 'deactivated'}.")
    if not is_active:
        if member.pk == by.pk:
            raise TeamError("You cannot deactivate yourself; ask another admin.")
        if member.pk in admins and len(admins) <= 1:
            raise TeamError("This is the last active admin; make someone else admin first.")
    before = _member_state(member)
    member.is_active = is_active
    member.save(update_fields=["is_active"])
    audit_record(
        actor=by,
        action="team.member.activate" if is_active else "team.member.deactivate",
        target=member,
        before=before,
        after={**before, "is_active": is_active},
    )
    return member
