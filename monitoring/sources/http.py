"""Shared plumbing for the HTTP pull connectors.

One place decides how a platform's answer becomes a ``TemporaryError`` (back off, keep the cursor)
or a ``PermanentError`` (mark the source failing with a reason a manager can act on), how long to
wait after a 429, and how HTML from strangers becomes plain text. Every connector's base URL is
configurable, so tests point them at a server on 127.0.0.1 (allowed there by
``OUTBOUND_ALLOWED_NETWORKS``): requests go through ``crisisdesk.outbound``, which refuses private
addresses at connect time, and config URLs are checked when they are saved (``clean_public_url``).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import httpx
from django.core.exceptions import ValidationError

from crisisdesk import outbound
from crisisdesk.links import safe_url
from monitoring.sources.base import PermanentError, SourceError, TemporaryError

USER_AGENT = "CrisisDesk/0.1 (self-hosted crisis monitoring; +https://github.com/crisisdesk)"
# Connect fast, read patiently: a platform under load answers slowly, a dead host should not stall a worker.
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# A 429 or 503 without a usable Retry-After still deserves a pause longer than the poll interval.
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 24 * 3600.0
_SNIPPET_CHARS = 160


def http_client(
    *, headers: Mapping[str, str] | None = None, timeout: httpx.Timeout | None = None
) -> httpx.Client:
    """The guarded outbound client with our User-Agent and timeouts. Use it as a context manager."""
    merged = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    merged.update(headers or {})
    return outbound.client(headers=merged, timeout=timeout or DEFAULT_TIMEOUT, follow_redirects=True)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After``-like value (seconds, HTTP date or ISO 8601); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            try:  # Mastodon sends X-RateLimit-Reset as ISO 8601
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def retry_after_from(response: httpx.Response) -> float | None:
    """Retry-After, else ``x-ratelimit-reset`` (Reddit: seconds until the reset; Mastodon: its time)."""
    seconds = parse_retry_after(response.headers.get("retry-after"))
    if seconds is None:
        seconds = parse_retry_after(response.headers.get("x-ratelimit-reset"))
    return seconds


def body_snippet(response: httpx.Response) -> str:
    """A short, plain-text hint of what an error body said (an HTML page's title or text, never markup)."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or text.lstrip()[:1] == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", text, flags=re.IGNORECASE | re.DOTALL)
        text = html_to_text(title.group(1) if title else text)
    else:
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            error = payload.get("error")
            if isinstance(error, dict):
                error = error.get("message") or error.get("status")
            text = str(error or payload.get("message") or payload.get("error_description") or text)
    if "<" in text or "&" in text:  # JSON error messages carry markup too (Google's do)
        text = html_to_text(text)
    text = " ".join(text.split())
    return text[:_SNIPPET_CHARS] + ("…" if len(text) > _SNIPPET_CHARS else "")


def raise_for_status(response: httpx.Response, *, what: str) -> None:
    """Turn a non-2xx answer into the right ``SourceError``; ``what`` names the endpoint for the reason.

    401/403/404/410 and other 4xx are permanent (credentials, a closed API or a wrong config will not
    fix themselves); 408, 425, 429 and 5xx are temporary and carry ``retry_after`` when the server sent one.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    snippet = body_snippet(response)
    reason = f"{what}: HTTP {status}" + (f" — {snippet}" if snippet else "")
    if status == 429:
        raise TemporaryError(
            f"{what}: rate limited (HTTP 429)" + (f" — {snippet}" if snippet else ""),
            retry_after=retry_after_from(response) or DEFAULT_RETRY_AFTER,
        )
    if status in (408, 425) or status >= 500:
        raise TemporaryError(reason, retry_after=retry_after_from(response))
    if status == 401:
        raise PermanentError(f"{what}: not authorised (HTTP 401) — check the credentials" + _tail(snippet))
    if status == 403:
        raise PermanentError(f"{what}: access refused (HTTP 403)" + _tail(snippet))
    raise PermanentError(reason)


def _tail(snippet: str) -> str:
    return f"; the server said: {snippet}" if snippet else ""


def request(client: httpx.Client, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
    """Send one request; network failures become ``TemporaryError``, a refused address or an oversized
    answer a ``PermanentError``. The status is not checked here."""
    try:
        return client.request(method, url, **kwargs)
    except outbound.OutboundError as exc:  # the same request would be refused again: say why, stop
        raise PermanentError(f"{what}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise TemporaryError(f"{what}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:  # connection refused, DNS, TLS, protocol errors
        raise TemporaryError(f"{what}: {type(exc).__name__}: {exc}") from exc


def decode_json(response: httpx.Response, *, what: str) -> Any:
    """The JSON body, or ``TemporaryError`` when it is not JSON (a proxy page, a truncated answer)."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise TemporaryError(
            f"{what}: the answer was not valid JSON ({body_snippet(response) or 'empty'})"
        ) from exc


def get_json(client: httpx.Client, url: str, *, what: str, **kwargs: Any) -> Any:
    """GET ``url`` and return its JSON, mapping every failure to a ``SourceError``."""
    response = request(client, "GET", url, what=what, **kwargs)
    raise_for_status(response, what=what)
    return decode_json(response, what=what)


def combine_errors(errors: list[SourceError]) -> SourceError:
    """One error for several failed endpoints: permanent if any is, waiting as long as the longest wait."""
    message = "; ".join(str(e) for e in errors)
    waits = [e.retry_after for e in errors if e.retry_after is not None]
    cls = PermanentError if any(e.permanent for e in errors) else TemporaryError
    return cls(message, retry_after=max(waits) if waits else None)


# --- Text and URLs from strangers ------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Collects text nodes; drops script/style content; paragraph-like tags become line breaks."""

    _SKIP = {"script", "style", "template", "noscript", "iframe", "object"}
    _BREAKS = {"br", "p", "div", "li", "blockquote", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from an HTML fragment: tags and script/style bodies dropped, entities decoded.

    The result is text, not markup: templates autoescape it, so ``&lt;script&gt;`` typed by a user
    shows as the characters ``<script>`` and a real ``<script>`` element is gone entirely.
    """
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def plain_text(value: Any) -> str:
    """A platform's plain-text field as a stripped string ("" for anything that is not text).

    It stays exactly what the author typed: ``<script>`` in it is text that templates escape.
    """
    if not isinstance(value, str):
        return ""
    return value.strip()


def parse_timestamp(value: Any) -> datetime:
    """An aware UTC datetime from an ISO 8601 string or epoch seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a timestamp: {value!r}")


# --- Config validation helpers ---------------------------------------------------------------


def clean_base_url(value: Any, *, field: str, default: str = "") -> str:
    """An http(s) base URL without a trailing slash, or ValidationError naming ``field``."""
    if value in (None, ""):
        value = default
    if not isinstance(value, str) or not safe_url(value):
        raise ValidationError({field: f"{field} must be an http(s) URL such as https://example.org"})
    return clean_public_url(value.strip().rstrip("/"), field=field)


class RefusedDestination(ValidationError, PermanentError):
    """A config URL on a private address. Connectors validate their config when it is saved *and*
    before each poll, so this is both: a field error on the form, a permanent failure of the poll."""

    def __init__(self, *, field: str, message: str) -> None:
        # Not ValidationError.__init__: its cooperative super() would run SourceError's with its arguments.
        Exception.__init__(self, message)
        self.error_dict = ValidationError({field: message}).error_dict
        self.retry_after = None
        self.text = message

    def __str__(self) -> str:
        return self.text


def clean_public_url(url: str, *, field: str) -> str:
    """``url`` unchanged, or ``RefusedDestination`` naming ``field`` when it points at a private
    address (a literal one, or a name resolving to one today: ``crisisdesk.outbound.url_refusal``)."""
    problem = outbound.url_refusal(url)
    if problem:
        raise RefusedDestination(field=field, message=problem)
    return url


def clean_list(value: Any, *, field: str) -> list[str]:
    """A list of non-empty strings from a list or a comma/newline separated string."""
    if isinstance(value, str):
        value = re.split(r"[,\n]", value)
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise ValidationError({field: f"{field} must be a list or a comma-separated text"})
    items: list[str] = []
    for entry in value:
        if not isinstance(entry, str):
            raise ValidationError({field: f"{field} must contain text only"})
        entry = entry.strip()
        if entry and entry not in items:
            items.append(entry)
    return items


def clean_text(value: Any, *, field: str, required: bool = True, max_length: int = 500) -> str:
    """A stripped string, or ValidationError naming ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: f"{field} must be text"})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: f"{field} is required"})
    if len(value) > max_length:
        raise ValidationError({field: f"{field} is longer than {max_length} characters"})
    return value


def clean_int(value: Any, *, field: str, default: int, minimum: int, maximum: int) -> int:
    """An int within bounds (``default`` when empty), or ValidationError naming ``field``."""
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"{field} must be a whole number"}) from None
    if not minimum <= number <= maximum:
        raise ValidationError({field: f"{field} must be between {minimum} and {maximum}"})
    return number


# --- "Newest seen + ids seen" cursors ---------------------------------------------------------


def window_select(
    entries: Iterable[tuple[str, float, Any]],
    state: Mapping[str, Any] | None,
    *,
    overlap: float,
    keep: int = 2000,
) -> tuple[list[Any], dict[str, Any]]:
    """Pick the entries not returned before, and the cursor state to save after storing them.

    ``entries`` are ``(id, epoch_seconds, payload)``. Search indexes (Algolia, Reddit) publish late,
    so queries look back ``overlap`` seconds before the newest item seen; the ids seen inside that
    window are remembered so an item is never returned twice. State: ``{"newest": ts, "seen": {id: ts}}``.
    """
    state = state or {}
    before = float(state.get("newest") or 0)
    newest = before
    seen: dict[str, float] = {str(k): float(v) for k, v in (state.get("seen") or {}).items()}
    fresh: list[Any] = []
    for entry_id, ts, payload in entries:
        if entry_id in seen or (before and ts <= before - overlap):
            continue
        seen[entry_id] = ts
        fresh.append(payload)
        newest = max(newest, ts)
    horizon = newest - overlap
    kept = sorted(((k, v) for k, v in seen.items() if v > horizon), key=lambda kv: kv[1], reverse=True)
    return fresh, {"newest": newest, "seen": dict(kept[:keep])}
