"""The languages the interface speaks and the time zones offered first."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings

# The teams' own zones first (Turkey, Poland, Malaysia, Indonesia's three, then English-speaking).
COMMON_ZONES = [
    "Europe/Istanbul",
    "Europe/Warsaw",
    "Asia/Kuala_Lumpur",
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
]


def language_codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


@cache
def all_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def zone_choices() -> list[tuple[str, str]]:
    """The common zones, then every other IANA zone by name."""
    rest = sorted(all_zones() - set(COMMON_ZONES))
    return [(zone, zone.replace("_", " ")) for zone in [*COMMON_ZONES, *rest]]
