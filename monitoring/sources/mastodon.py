"""Mastodon hashtag timelines on one or more instances (public API, no account needed).

``GET {instance}/api/v1/timelines/tag/{tag}?limit=40&min_id=<cursor>`` answers the page of statuses
immediately newer than ``min_id``, newest first, so the cursor is the newest id seen per
instance+tag and a backlog is walked forward page by page without gaps. Instances that closed their
public timelines answer 401/403 (a permanent error naming the instance) or an empty array (no items).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ValidationError

from monitoring.sources import http
from monitoring.sources.base import Connector, Item, SourceError, TemporaryError

if TYPE_CHECKING:
    from monitoring.models import Source

logger = logging.getLogger(__name__)

PAGE_LIMIT = 40
_TAG_RE = re.compile(r"^\w{1,100}$")


def _id_key(status_id: str) -> tuple[int, int | str]:
    """Sort key for status ids: Mastodon's are decimal snowflakes, Pleroma's sortable flake strings."""
    return (len(status_id), int(status_id)) if status_id.isdigit() else (len(status_id), status_id)


def _newest_id(ids: list[str]) -> str:
    return max(ids, key=_id_key)


class MastodonConnector(Connector):
    kind = "mastodon"
    config_fields = {
        "instances": (
            "Instances",
            True,
            "One or more instance URLs, e.g. https://mastodon.social (comma or line separated).",
        ),
        "tags": ("Hashtags", True, "Hashtags to follow, without #, e.g. acmeair, acme (comma separated)."),
        "max_pages": (
            "Pages per poll",
            False,
            "Up to this many pages of 40 per instance and tag (default 5).",
        ),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        instances = http.clean_list(config.get("instances"), field="instances")
        if not instances:
            raise ValidationError({"instances": "instances needs at least one instance URL"})
        cleaned_instances = []
        for instance in instances:
            if "://" not in instance:
                instance = f"https://{instance}"
            cleaned_instances.append(http.clean_base_url(instance, field="instances"))
        tags = [t.lstrip("#") for t in http.clean_list(config.get("tags"), field="tags")]
        if not tags:
            raise ValidationError({"tags": "tags needs at least one hashtag"})
        for tag in tags:
            if not _TAG_RE.match(tag):
                raise ValidationError(
                    {"tags": f"tags: {tag!r} is not a hashtag (letters, digits and _ only)"}
                )
        return {
            "instances": cleaned_instances,
            "tags": tags,
            "max_pages": http.clean_int(
                config.get("max_pages"), field="max_pages", default=5, minimum=1, maximum=25
            ),
        }

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        config = self.validate_config(source.config)
        min_ids: dict[str, str] = dict((cursor or {}).get("min_id") or {})
        items: list[Item] = []
        seen: set[str] = set()
        errors: list[SourceError] = []
        with http.http_client() as client:
            for instance in config["instances"]:
                for tag in config["tags"]:
                    key = f"{instance}#{tag}"
                    try:
                        fetched, newest = self._fetch_timeline(
                            client, instance, tag, min_ids.get(key), max_pages=config["max_pages"]
                        )
                    except SourceError as exc:
                        errors.append(exc)
                        continue
                    for item in fetched:
                        # The same status federates to several instances: keep it once.
                        if item.external_id not in seen:
                            seen.add(item.external_id)
                            items.append(item)
                    if newest:
                        min_ids[key] = newest
        if errors:
            # Nothing is stored and no cursor moves: the healthy timelines are fetched again after the fix.
            raise http.combine_errors(errors)
        return items, {"min_id": min_ids}

    def _fetch_timeline(
        self, client: Any, instance: str, tag: str, min_id: str | None, *, max_pages: int
    ) -> tuple[list[Item], str | None]:
        host = urlsplit(instance).netloc
        what = f"Mastodon {instance.split('://', 1)[-1]} #{tag}"
        url = f"{instance}/api/v1/timelines/tag/{quote(tag, safe='')}"
        items: list[Item] = []
        newest = min_id
        for _ in range(max_pages):
            params: dict[str, Any] = {"limit": PAGE_LIMIT}
            if newest:
                params["min_id"] = newest
            statuses = http.get_json(client, url, what=what, params=params)
            if not isinstance(statuses, list):
                raise TemporaryError(f"{what}: expected a list of statuses, got {type(statuses).__name__}")
            ids = [
                str(s["id"]) for s in statuses if isinstance(s, dict) and isinstance(s.get("id"), str | int)
            ]
            if not ids:
                break
            for status in statuses:
                try:
                    items.append(status_to_item(status, host=host))
                except (KeyError, TypeError, ValueError) as exc:
                    logger.warning("%s: skipped a malformed status %r: %s", what, status.get("id"), exc)
            newest = _newest_id([*ids, newest] if newest else ids)
            if len(statuses) < PAGE_LIMIT or min_id is None:
                # A first poll takes only the latest page: history before the source existed is not news.
                break
        return items, newest


def status_to_item(status: dict[str, Any], *, host: str) -> Item:
    """Map one Mastodon status (API v1 JSON) to an Item: custom emoji codes are left out of its
    text, alt text and the link card go to ``match_extras``. KeyError/ValueError when malformed."""
    account = status.get("account") or {}
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct:
        acct = f"{acct}@{host}"
    shortcodes = _emoji_shortcodes(status)
    text = _without_emoji(http.html_to_text(status.get("content") or ""), shortcodes)
    spoiler = _without_emoji(http.plain_text(status.get("spoiler_text")), shortcodes)
    if spoiler:
        text = f"{spoiler}\n{text}" if text else spoiler
    uri = str(status.get("uri") or "")
    external_id = uri if uri and len(uri) <= 255 else f"{host}:{status['id']}"
    engagement = sum(int(status.get(k) or 0) for k in ("favourites_count", "reblogs_count", "replies_count"))
    return Item(
        external_id=external_id,
        text=text,
        published_at=http.parse_timestamp(status["created_at"]),
        url=http.safe_url(status.get("url")) or http.safe_url(uri),
        author=f"@{acct}" if acct else "",
        author_reach=max(0, int(account.get("followers_count") or 0)),
        engagement=max(0, engagement),
        language=str(status.get("language") or "")[:8],
        raw=status,
        match_extras=_extras(status),
    )


def _emoji_shortcodes(status: dict[str, Any]) -> frozenset[str]:
    """The shortcodes of the instance's custom emoji this status uses (``status.emojis``)."""
    emojis = status.get("emojis")
    return frozenset(
        str(emoji["shortcode"])
        for emoji in (emojis if isinstance(emojis, list) else [])
        if isinstance(emoji, dict) and isinstance(emoji.get("shortcode"), str) and emoji["shortcode"]
    )


def _without_emoji(text: str, shortcodes: frozenset[str]) -> str:
    """``text`` without the ``:shortcode:`` codes of custom emoji, which the web shows as images.

    Only the codes the status lists are removed, so ``12:30:45`` or ``:)`` typed by its author stay.
    """
    if not shortcodes or ":" not in text:
        return text
    pattern = re.compile(":(?:" + "|".join(re.escape(code) for code in sorted(shortcodes)) + "):")
    lines = (" ".join(pattern.sub(" ", line).split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _extras(status: dict[str, Any]) -> tuple[str, ...]:
    """What the status carries besides its text, for matching: its media's alt text
    (``description``) and its link preview card's URL and title."""
    extras: list[str] = []
    media = status.get("media_attachments")
    for attachment in media if isinstance(media, list) else []:
        if isinstance(attachment, dict):
            extras.append(http.plain_text(attachment.get("description")))
    card = status.get("card")
    if isinstance(card, dict):
        extras += [http.safe_url(card.get("url")), http.plain_text(card.get("title"))]
    return tuple(extra for extra in extras if extra)
