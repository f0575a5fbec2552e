"""Writes: a member's own language and time zone, and the team's defaults (admins only)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from crisisdesk.audit.services import audited_update
from crisisdesk.errors import Refusal
from crisisdesk.models import MemberPreferences, TeamSettings
from crisisdesk.preferences.choices import all_zones, language_codes
from crisisdesk.roles import MANAGE_TEAM, ensure_permission
from crisisdesk.types import Member


class PreferencesError(Refusal):
    """A language or time zone CrisisDesk does not offer."""


def _check(language: str, time_zone: str, *, blank_ok: bool) -> None:
    if language not in language_codes() and not (blank_ok and language == ""):
        raise PreferencesError(_("Choose one of the languages offered."))
    if time_zone not in all_zones() and not (blank_ok and time_zone == ""):
        raise PreferencesError(_("Choose a time zone from the list (for example Europe/Istanbul)."))


@transaction.atomic
def preferences_set(*, member: Member, language: str, time_zone: str, by: Member) -> MemberPreferences:
    """Set ``member``'s own language and time zone ("" = the team default). Members change only
    their own; an admin may change anyone's."""
    if by.pk != member.pk:
        ensure_permission(by, MANAGE_TEAM, _("Only admins change another member's preferences."))
    _check(language, time_zone, blank_ok=True)
    row, _created = MemberPreferences.objects.select_for_update().get_or_create(member=member)
    audited_update(
        instance=row,
        by=by,
        action="preferences.updated",
        changes={"language": language, "time_zone": time_zone},
    )
    return row


@transaction.atomic
def preferences_language_set(*, member: Member, language: str, by: Member) -> MemberPreferences:
    """The header's switcher: ``member``'s language; their own time zone (or none) stays as chosen."""
    own_zone = MemberPreferences.objects.filter(member=member).values_list("time_zone", flat=True).first()
    return preferences_set(member=member, language=language, time_zone=own_zone or "", by=by)


@transaction.atomic
def team_defaults_set(*, language: str, time_zone: str, by: Member) -> TeamSettings:
    """The team's default language and time zone, for members who chose none."""
    ensure_permission(by, MANAGE_TEAM, _("Only admins set the team's defaults."))
    _check(language, time_zone, blank_ok=False)
    row, _created = TeamSettings.objects.select_for_update().get_or_create(pk=1)
    audited_update(
        instance=row, by=by, action="team.defaults", changes={"language": language, "time_zone": time_zone}
    )
    return row
