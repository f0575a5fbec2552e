"""Display helpers for playbook pages."""

from __future__ import annotations

from django import template

from playbooks.constants import LANGUAGES, channel_name

register = template.Library()


@register.filter
def within(minutes: int | None) -> str:
    """A due offset as people say it: "within 60 minutes", "within 4 hours", "within 2 days"."""
    if minutes is None:
        return "no deadline"
    if minutes == 0:
        return "immediately"
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"within {days} day{'s' if days != 1 else ''}"
    if minutes >= 120 and minutes % 60 == 0:
        return f"within {minutes // 60} hours"
    return f"within {minutes} minute{'s' if minutes != 1 else ''}"


@register.filter
def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


register.filter("channel_name", channel_name)
