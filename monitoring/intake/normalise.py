"""Normalisation: what strangers send becomes what CrisisDesk stores.

Every source (pull or push) hands ``ingest_items`` text, names, tags, counts and timestamps written
by strangers; these functions make them safe to store and show: markup becomes plain text, lengths
are capped, timestamps become aware UTC and are never in the future. Connectors use them too
(feeds and Mastodon send HTML). Pure functions: no database here. URLs go through
``crisisdesk.links.safe_url``, the one rule for which URLs may become links.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import unquote

import nh3
from django.utils import timezone

TEXT_MAX = 10_000
AUTHOR_MAX = 255
EXTERNAL_ID_MAX = 255
BIGINT_MAX = 2**63 - 1

_WHITESPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")
# Anything ``plain_text`` would change: control characters, line breaks of any kind, no-break
# spaces, runs of spaces. Text without these (almost every post) is returned as it is.
_NEEDS_FOLDING = re.compile(r"[\x00-\x1f\x7f\x85\xa0\u2028\u2029]| {2}")
_URL_START = re.compile(r"^https?://", re.IGNORECASE)
_URL_SEPARATORS = re.compile(r"[\W_]+")
# The platform tags of a batch repeat ("en", "tr", "pt-BR"): parse each once per process.
_language_tags: dict[str, str] = {}


def plain_text(value: str | None, *, limit: int = TEXT_MAX) -> str:
    """Normalise text that is already plain: control characters out, whitespace folded, capped.

    Markup is *not* removed here: a post saying ``I <3 Acme`` or ``<script>alert(1)</script>`` is
    stored exactly as its author wrote it, and every page escapes it. Connectors whose payload is
    HTML (feeds, Mastodon) convert it first with ``html_to_plain_text``.
    """
    if not value:
        return ""
    value = str(value)
    # ``isprintable`` (C speed) is False for every character _NEEDS_FOLDING looks for, so most
    # posts skip the regex; the rest take the full path, which gives the same answer.
    if (
        value
        and len(value) <= limit
        and (value.isprintable() or _NEEDS_FOLDING.search(value) is None)
        and "  " not in value
        and not value[0].isspace()
        and not value[-1].isspace()
    ):
        return value
    value = _CONTROL.sub("", value)
    lines = [_WHITESPACE.sub(" ", line).strip() for line in value.splitlines()]
    value = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def html_to_plain_text(value: str | None, *, limit: int = TEXT_MAX) -> str:
    """Markup → plain text: tags removed (script/style with their content), entities decoded.

    A text that was *only* a script (``<script>alert(1)</script>``) keeps its inner words rather
    than vanishing, so a stranger's attempt stays visible as inert text.
    """
    if not value:
        return ""
    value = str(value)
    if "<" in value or "&" in value:
        cleaned = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
        if not cleaned.strip():
            cleaned = nh3.clean(value, tags=set(), clean_content_tags=set())
        value = html.unescape(cleaned)
    return plain_text(value, limit=limit)


def url_words(url: str) -> str:
    """The words of a URL, percent-decoded and split at its punctuation, scheme left out:
    ``https://news.example/acme-air_refunds?q=1`` → ``news example acme air refunds q 1``.

    Terms are matched at word starts, so ``acme air`` only finds a slug once its hyphens are spaces.
    """
    rest = _URL_START.sub("", url.strip())
    return _URL_SEPARATORS.sub(" ", unquote(rest)).strip()


def match_text(text: str, extras: Iterable[str] = ()) -> str:
    """The text terms are matched against: the stored (visible) ``text`` plus ``extras``, what the
    platform carries with the post without showing it (``Item.match_extras``).

    Each extra is normalised like ``plain_text``; a URL adds itself and its words (``url_words``);
    an extra already in ``text`` (a link card title shown with the post) is not repeated, though a
    URL shown in full still adds its words. The result is capped at ``TEXT_MAX`` like the stored
    text. Pure: nothing here is stored or shown.
    """
    parts = [text]
    seen = {text}
    for extra in extras:
        value = plain_text(extra) if isinstance(extra, str) else ""
        if not value or value in seen:
            continue
        seen.add(value)
        if _URL_START.match(value):
            # A URL the text already shows in full still adds its words: a slug's hyphens hide them.
            parts += [url_words(value)] if value in text else [value, url_words(value)]
        elif value not in text:
            parts.append(value)
    if len(parts) == 1:
        return text
    # Every part is already plain text: joining them needs only the length cap.
    joined = "\n".join(parts)
    return joined if len(joined) <= TEXT_MAX else joined[: TEXT_MAX - 1].rstrip() + "…"


def language_tag(value: str | None) -> str:
    """A platform tag like ``en-US``/``pt_BR``/``TR`` → its primary subtag (``en``), or ``""``."""
    if not value:
        return ""
    value = str(value)
    found = _language_tags.get(value)
    if found is None:
        match = _LANGUAGE.match(value.strip().lower())
        found = match.group(1) if match else ""
        if len(_language_tags) < 10_000:
            _language_tags[value] = found
    return found


def utc_datetime(value: datetime | None, *, now: datetime) -> datetime:
    """Aware UTC; naive values are taken as UTC; the future is clamped to ``now``."""
    if value is None:
        return now
    if value.tzinfo is UTC:  # what connectors hand us almost always: skip the conversions
        return value if value < now else now
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return min(value, now)


def stable_external_id(value: str) -> str:
    """External ids longer than the column keep a readable prefix and a hash of the whole."""
    value = str(value).strip()
    if len(value) <= EXTERNAL_ID_MAX:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"{value[: EXTERNAL_ID_MAX - 66]}#{digest}"


def clamp_count(value: int | None) -> int:
    """A reach or engagement count as a non-negative int that fits the BIGINT column; junk is 0."""
    if type(value) is int and 0 <= value <= BIGINT_MAX:  # what connectors send: skip the conversions
        return value
    try:
        return max(0, min(int(value or 0), BIGINT_MAX))
    except (TypeError, ValueError):
        return 0


OWN_ACCOUNTS_ANY = "any"  # the key of handles that are ours on every platform


def handle_key(handle: str | None) -> str:
    """An author handle as own-account matching compares it: trimmed, without leading ``@``,
    case-folded (``@AcmeAir`` and ``acmeair`` are one account; ``@acmeair@mastodon.social`` keeps
    its server)."""
    return (handle or "").strip().lstrip("@").casefold()


def own_handles(own_accounts: object, kind: str) -> frozenset[str]:
    """The handle keys that are ours on a source of ``kind``: the watch's handles for that
    platform plus those listed under ``"any"``. Tolerates a malformed value (matches nothing)."""
    if not isinstance(own_accounts, dict):
        return frozenset()
    handles: set[str] = set()
    for key in (kind, OWN_ACCOUNTS_ANY):
        values = own_accounts.get(key)
        if isinstance(values, list):
            handles.update(handle_key(value) for value in values if isinstance(value, str))
    handles.discard("")
    return frozenset(handles)
