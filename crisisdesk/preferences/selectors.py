"""Reads: the language and time zone a member's pages use."""

from __future__ import annotations

from dataclasses import dataclass

from crisisdesk.models import MemberPreferences, TeamSettings
from crisisdesk.types import Member


@dataclass(frozen=True)
class Locale:
    language: str  # the member's own choice; "" = the browser's language, then the team's
    time_zone: str  # the member's own zone, else the team's
    team_language: str


def team_settings() -> TeamSettings:
    """The team's defaults: the stored row, or the built-in defaults (unsaved) until an admin sets
    them (``team_defaults_set`` creates the row; a read never writes)."""
    return TeamSettings.objects.filter(pk=1).first() or TeamSettings(pk=1)


def member_locale(member: Member) -> Locale:
    """What the member's pages use, in two queries (cached in the session at sign-in)."""
    team = team_settings()
    own = MemberPreferences.objects.filter(member=member).first()
    return Locale(
        language=own.language if own is not None else "",
        time_zone=(own.time_zone if own is not None and own.time_zone else team.time_zone),
        team_language=team.language,
    )
