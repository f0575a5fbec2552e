"""Template helpers for incident pages. Untrusted values stay escaped; links are http(s) only."""

from __future__ import annotations

from django import template

from crisisdesk import links
from playbooks.models import ScenarioType

register = template.Library()


@register.filter
def safe_url(value: str) -> str:
    """The URL if it is http(s), else "" — use as ``{% with href=m.url|safe_url %}{% if href %}<a…>``."""
    return links.safe_url(str(value or ""))


@register.filter
def compact(value: int | float | None) -> str:
    """1234 -> 1.2k, 2500000 -> 2.5M: reach and counts at a glance."""
    if value is None:
        return "—"
    number = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{int(number)}" if number == int(number) else f"{number:.1f}"


@register.filter
def scenario_label(value: str) -> str:
    """A scenario type's human label ("viral_complaint" -> "Customer complaint going viral")."""
    try:
        return str(ScenarioType(value).label)
    except ValueError:
        return str(value or "").replace("_", " ")


@register.filter
def percent(value: float | None) -> str:
    """A share as a whole percentage: 0.437 -> 44%; None -> —."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.0f}%"
