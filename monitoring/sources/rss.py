"""RSS/Atom feeds, including Google Alerts and Talkwalker Alerts.

Conditional GET (ETag / Last-Modified kept in the cursor) keeps polite polling cheap; the cursor
also keeps a window of entry ids already seen, so an unchanged feed yields nothing new. Alert feeds
wrap every link in a redirector: the real article URL is unwrapped so responders open the source.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import feedparser
from django.core.exceptions import ValidationError
from django.utils import timezone

from crisisdesk.links import safe_url
from monitoring.intake.normalise import html_to_plain_text, language_tag
from monitoring.sources.base import Connector, Item, PermanentError, TemporaryError
from monitoring.sources.http import clean_public_url, http_client, raise_for_status, request

if TYPE_CHECKING:
    from monitoring.models import Source

SEEN_WINDOW = 500
MAX_BODY_BYTES = 10 * 1024 * 1024
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
# Redirectors used by alert services: host suffix -> query parameters that carry the real URL.
REDIRECTORS: dict[str, tuple[str, ...]] = {
    "google.com": ("url", "q"),
    "talkwalker.com": ("url", "u", "link"),
}


def unwrap_link(link: str) -> str:
    """``https://www.google.com/url?…&url=<real>`` → ``<real>`` (and Talkwalker's equivalent)."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return link
    host = (parts.hostname or "").lower()
    for suffix, params in REDIRECTORS.items():
        if host == suffix or host.endswith("." + suffix):
            query = parse_qs(parts.query)
            for param in params:
                for candidate in query.get(param, []):
                    if safe_url(candidate):
                        return candidate
    return link


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def _entry_text(entry: Any) -> str:
    title = html_to_plain_text(entry.get("title", ""))
    body = ""
    for content in entry.get("content", []) or []:
        body = html_to_plain_text(content.get("value", ""))
        if body:
            break
    if not body:
        body = html_to_plain_text(entry.get("summary", ""))
    if body and title and body.startswith(title):
        return body
    return "\n".join(part for part in (title, body) if part)


def _entry_language(entry: Any, feed_language: str) -> str:
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key) or {}
        if detail.get("language"):
            return language_tag(detail["language"])
    return language_tag(feed_language)


def _entry_id(entry: Any, link: str, text: str) -> str:
    entry_id = (entry.get("id") or "").strip()
    if entry_id:
        return entry_id
    if link:
        return link
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _author(entry: Any, url: str) -> str:
    author = html_to_plain_text(entry.get("author", ""), limit=255)
    if author:
        return author
    # Alert feeds carry no author: the publisher's domain is what a responder wants to see.
    host = (urlsplit(url).hostname or "") if url else ""
    return host.removeprefix("www.")


def _looks_complete(body: bytes) -> bool:
    tail = body.rstrip()[-64:].lower()
    return tail.endswith((b"</rss>", b"</feed>", b"</rdf:rdf>", b"</rdf>"))


class RssConnector(Connector):
    kind = "rss"
    pull = True
    config_fields = {
        "url": ("Feed URL", True, "An RSS or Atom feed, e.g. a Google Alerts or Talkwalker Alerts feed."),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        url = str((config or {}).get("url", "")).strip()
        if not url:
            raise ValidationError({"url": "Enter the feed URL."})
        if not safe_url(url):
            raise ValidationError({"url": "Enter an absolute http(s) URL."})
        return {"url": clean_public_url(url, field="url")}

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        try:
            config = self.validate_config(source.config or {})
        except ValidationError as error:
            raise PermanentError(f"The source's config is invalid: {'; '.join(error.messages)}") from error
        url = config["url"]
        headers = {"Accept": FEED_ACCEPT}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        with http_client(headers=headers) as client:
            response = request(client, "GET", url, what="feed")
        if response.status_code == 304:  # unchanged since the ETag/Last-Modified we sent
            return [], cursor
        # 401/403/404/410 → permanent (with an HTML page's title as the reason); 429/5xx → temporary.
        raise_for_status(response, what="feed")
        if len(response.content) > MAX_BODY_BYTES:
            raise PermanentError(f"The feed is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB.")

        parsed = feedparser.parse(
            response.content,
            response_headers={key.lower(): value for key, value in response.headers.items()},
        )
        version = parsed.get("version", "")
        entries = parsed.get("entries", [])
        if parsed.get("bozo"):
            reason = parsed.get("bozo_exception")
            if version and not _looks_complete(response.content):
                # It starts like a feed and stops before its closing tag: a cut-off read. Try again,
                # rather than store half an entry under an id the complete feed will not repeat.
                raise TemporaryError(f"The feed body was incomplete or broken: {reason}")
            if not entries:
                raise PermanentError(f"The body is not a readable RSS/Atom feed (malformed XML: {reason}).")
            # Otherwise a slightly broken but complete feed: keep what the lenient parser read.
        if not version and not entries:
            raise PermanentError("The URL did not return an RSS/Atom feed (no feed found in the body).")

        seen: list[str] = list(cursor.get("seen", []))
        seen_set = set(seen)
        feed_language = parsed.get("feed", {}).get("language", "")
        items: list[Item] = []
        new_ids: list[str] = []
        for entry in entries:  # newest first in practice; the seen window keeps that order
            link = unwrap_link((entry.get("link") or "").strip())
            text = _entry_text(entry)
            entry_id = _entry_id(entry, link, text)
            if entry_id in seen_set:
                continue
            seen_set.add(entry_id)
            new_ids.append(entry_id)
            url = safe_url(link)
            items.append(
                Item(
                    external_id=entry_id,
                    text=text,
                    published_at=_entry_time(entry) or timezone.now(),
                    url=url,
                    author=_author(entry, url),
                    language=_entry_language(entry, feed_language),
                    raw={
                        "id": entry_id,
                        "link": link,
                        "title": entry.get("title", "")[:500],
                        "feed": config["url"],
                    },
                )
            )

        times = [item.published_at.isoformat() for item in items]
        if cursor.get("latest"):
            times.append(cursor["latest"])
        next_cursor: dict[str, Any] = {
            "seen": (new_ids + seen)[:SEEN_WINDOW],
            "etag": response.headers.get("ETag", ""),
            "last_modified": response.headers.get("Last-Modified", ""),
            "latest": max(times, default=""),  # ISO strings in UTC sort like the moments they name
        }
        return items, next_cursor
