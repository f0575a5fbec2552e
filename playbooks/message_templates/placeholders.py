"""Placeholders in message templates: parsing, validation and a safe renderer.

Template bodies are written by people and copied into public statements, so they are never fed to
``str.format`` (which would allow ``{brand.__class__}``-style attribute and index access). Instead a
small tokenizer recognises exactly ``{name}`` for the names in ``PLACEHOLDERS``; ``{{`` and ``}}``
stand for literal braces. Rendering returns plain text: the page that shows it escapes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

PLACEHOLDERS: dict[str, str] = {
    "brand": "The brand or organisation speaking (the watch's name).",
    "issue": "A short, factual description of the problem.",
    "next_update": "When the next update will be published (time and time zone).",
    "contact": "Where affected people can get help (support address, phone or page).",
    "incident_url": "The public status or information page for this incident.",
}

# Sample values for the live preview, per language so a Turkish template reads naturally.
SAMPLE_VALUES: dict[str, dict[str, str]] = {
    "en": {
        "brand": "Acme Air",
        "issue": "delays to flights departing Warsaw",
        "next_update": "14:00 CET",
        "contact": "help@acme-air.example",
        "incident_url": "https://status.acme-air.example/incidents/42",
    },
    "tr": {
        "brand": "Acme Air",
        "issue": "Varşova kalkışlı uçuşlardaki rötarlar",
        "next_update": "14:00 (TSİ)",
        "contact": "destek@acme-air.example",
        "incident_url": "https://status.acme-air.example/incidents/42",
    },
    "pl": {
        "brand": "Acme Air",
        "issue": "opóźnienia lotów z Warszawy",
        "next_update": "14:00 CET",
        "contact": "pomoc@acme-air.example",
        "incident_url": "https://status.acme-air.example/incidents/42",
    },
    "id": {
        "brand": "Acme Air",
        "issue": "keterlambatan penerbangan dari Jakarta",
        "next_update": "14.00 WIB",
        "contact": "bantuan@acme-air.example",
        "incident_url": "https://status.acme-air.example/incidents/42",
    },
    "ms": {
        "brand": "Acme Air",
        "issue": "kelewatan penerbangan dari Kuala Lumpur",
        "next_update": "2.00 petang",
        "contact": "bantuan@acme-air.example",
        "incident_url": "https://status.acme-air.example/incidents/42",
    },
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class _Piece:
    text: str
    placeholder: str | None = None


class PlaceholderError(ValidationError):
    """A template body names placeholders we do not know, or has a stray brace."""


def _pieces(body: str) -> tuple[list[_Piece], list[str], list[str]]:
    """Split ``body`` into literal text and placeholders; also return unknown names and stray braces."""
    pieces: list[_Piece] = []
    unknown: list[str] = []
    stray: list[str] = []
    position = 0
    for match in _TOKEN.finditer(body):
        if match.start() > position:
            pieces.append(_Piece(body[position : match.start()]))
        token = match.group(0)
        if token in ("{{", "}}"):
            pieces.append(_Piece(token[0]))
        elif token in ("{", "}"):
            stray.append(token)
            pieces.append(_Piece(token))
        else:
            name = match.group(1)
            if name in PLACEHOLDERS:
                pieces.append(_Piece(token, placeholder=name))
            else:
                if name not in unknown:
                    unknown.append(name)
                pieces.append(_Piece(token))
        position = match.end()
    if position < len(body):
        pieces.append(_Piece(body[position:]))
    return pieces, unknown, stray


def placeholders_in(body: str) -> list[str]:
    """The known placeholder names used in ``body``, in order of first use."""
    names: list[str] = []
    for piece in _pieces(body)[0]:
        if piece.placeholder and piece.placeholder not in names:
            names.append(piece.placeholder)
    return names


def placeholder_errors(body: str) -> list[str]:
    """Human-readable problems with ``body``'s placeholders (empty when it is fine)."""
    _, unknown, stray = _pieces(body)
    errors = []
    if unknown:
        known = ", ".join("{%s}" % name for name in PLACEHOLDERS)  # noqa: UP031 - braces are literal here
        names = ", ".join("{%s}" % name for name in unknown)  # noqa: UP031
        errors.append(f"Unknown placeholder {names}. Use only {known}.")
    if stray:
        errors.append("A lone '{' or '}' is not a placeholder; write '{{' or '}}' for a literal brace.")
    return errors


def validate_template_body(body: str) -> None:
    """Raise ``PlaceholderError`` naming every unknown placeholder in ``body``."""
    errors = placeholder_errors(body)
    if errors:
        raise PlaceholderError(errors)


def render_placeholders(body: str, values: Mapping[str, object]) -> str:
    """Substitute known placeholders with ``values``; ones without a value stay as ``{name}``.

    Values are inserted as plain text (``str(value)``), once, never re-parsed: a value containing
    ``{brand}`` stays literal. The result is plain text — escape it where it is shown.
    """
    out: list[str] = []
    for piece in _pieces(body)[0]:
        if piece.placeholder is not None and values.get(piece.placeholder) not in (None, ""):
            out.append(str(values[piece.placeholder]))
        else:
            out.append(piece.text)
    return "".join(out)


def sample_values(language: str) -> dict[str, str]:
    """Preview values for ``language`` (English when we have none for it)."""
    return SAMPLE_VALUES.get(language, SAMPLE_VALUES["en"])


def render_sample(body: str, language: str = "en") -> str:
    """``body`` rendered with the preview's sample values."""
    return render_placeholders(body, sample_values(language))
