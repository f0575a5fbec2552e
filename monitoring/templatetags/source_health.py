"""How a source's health reads on a page: a pushed source is never polled, so "not polled yet" is wrong for it."""

from __future__ import annotations

from django import template

from monitoring.intake.polling import pull_kinds
from monitoring.models import Source, SourceHealth, SourceKind

register = template.Library()

_WAITING = {
    SourceKind.WEBHOOK: ("waiting", "Waiting for the first push"),
    SourceKind.IMPORT: ("no import", "No file imported yet"),
}


def _unknown_push(source: Source) -> tuple[str, str] | None:
    if source.health != SourceHealth.UNKNOWN or source.kind in pull_kinds():
        return None
    return _WAITING.get(SourceKind(source.kind), ("waiting", "Waiting for the first delivery"))


@register.filter
def health_word(source: Source) -> str:
    """The one-word badge: the stored health, or what a never-fed pushed source is waiting for."""
    waiting = _unknown_push(source)
    return waiting[0] if waiting else source.health


@register.filter
def health_text(source: Source) -> str:
    """The sentence for the source page and the badge's title."""
    waiting = _unknown_push(source)
    return waiting[1] if waiting else source.get_health_display()
