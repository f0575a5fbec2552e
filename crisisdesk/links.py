"""Which stranger-supplied URLs may become links."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

URL_MAX = 2000
_http_url = URLValidator(schemes=["http", "https"])


def safe_url(value: Any) -> str:
    """``value`` stripped if it is an absolute http(s) URL of sane shape, else "" — never a link to
    ``javascript:``, ``data:`` or a relative path.

    Sane shape: a real host (Django's ``URLValidator``), no whitespace inside, at most ``URL_MAX``
    characters once stripped (the length of the columns that store it).
    """
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if not value or len(value) > URL_MAX or any(ch.isspace() for ch in value):
        return ""
    try:
        _http_url(value)
    except ValidationError:
        return ""
    return value
