"""Which stranger-supplied URLs may become links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

URL_MAX = 2000


def safe_url(value: Any) -> str:
    """``value`` if it is an absolute http(s) URL with a host, else "" — never a ``javascript:`` link."""
    if not isinstance(value, str) or len(value) > URL_MAX:
        return ""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return value
