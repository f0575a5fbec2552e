"""Hacker News stories and comments through the Algolia search API.

``GET {base}/api/v1/search_by_date?query=…&tags=(story,comment)&numericFilters=created_at_i>{since}``
answers newest first. The index publishes items a little late, so ``since`` looks back ``OVERLAP``
seconds before the newest item seen and the ids already returned inside that window are skipped:
late items are caught and nothing is returned twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from monitoring.sources import http
from monitoring.sources.base import Connector, Item, TemporaryError

if TYPE_CHECKING:
    from monitoring.models import Source

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://hn.algolia.com"
HITS_PER_PAGE = 100
OVERLAP = 300  # seconds
HN_ITEM_URL = "https://news.ycombinator.com/item?id={}"
_ALLOWED_TAGS = {"(story,comment)", "story", "comment", "(story,comment,poll)", "show_hn", "ask_hn"}


class HackerNewsConnector(Connector):
    kind = "hackernews"
    config_fields = {
        "query": ("Search query", True, "Words to search for, e.g. acme air. Algolia matches all words."),
        "tags": ("Item types", False, "(story,comment) by default; or story, comment, show_hn, ask_hn."),
        "base_url": ("API base URL", False, f"Defaults to {DEFAULT_BASE_URL}."),
        "max_pages": ("Pages per poll", False, "Up to this many pages of 100 per poll (default 5)."),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        tags = http.clean_text(config.get("tags"), field="tags", required=False) or "(story,comment)"
        if tags not in _ALLOWED_TAGS:
            raise ValidationError({"tags": f"tags must be one of {', '.join(sorted(_ALLOWED_TAGS))}"})
        return {
            "query": http.clean_text(config.get("query"), field="query", max_length=200),
            "tags": tags,
            "base_url": http.clean_base_url(
                config.get("base_url"), field="base_url", default=DEFAULT_BASE_URL
            ),
            "max_pages": http.clean_int(
                config.get("max_pages"), field="max_pages", default=5, minimum=1, maximum=10
            ),
        }

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        config = self.validate_config(source.config)
        cursor = cursor or {}
        newest = float(cursor.get("newest") or 0)
        params: dict[str, Any] = {
            "query": config["query"],
            "tags": config["tags"],
            "hitsPerPage": HITS_PER_PAGE,
        }
        if newest:
            params["numericFilters"] = f"created_at_i>{int(newest - OVERLAP)}"
        url = f"{config['base_url']}/api/v1/search_by_date"
        what = "Hacker News search"
        hits: list[dict[str, Any]] = []
        with http.http_client() as client:
            for page in range(config["max_pages"]):
                payload = http.get_json(client, url, what=what, params={**params, "page": page})
                if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
                    raise TemporaryError(f"{what}: the answer has no list of hits")
                hits.extend(h for h in payload["hits"] if isinstance(h, dict))
                if not newest or page + 1 >= int(payload.get("nbPages") or 0):
                    break  # a first poll takes the latest page only
            else:
                logger.warning(
                    "%s for %r: more than %d pages new since last poll", what, config["query"], page + 1
                )
        entries = []
        for hit in hits:
            try:
                item = hit_to_item(hit)
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("%s: skipped a malformed hit %r: %s", what, hit.get("objectID"), exc)
                continue
            entries.append((item.external_id, item.published_at.timestamp(), item))
        items, state = http.window_select(entries, cursor, overlap=OVERLAP)
        return items, state


def hit_to_item(hit: dict[str, Any]) -> Item:
    """Map one Algolia HN hit (a story or a comment) to an Item; a comment carries its story's
    title and URL in ``match_extras``."""
    object_id = str(hit["objectID"])
    if not object_id:
        raise ValueError("empty objectID")
    title = http.plain_text(hit.get("title"))
    body = http.html_to_text(hit.get("story_text") or hit.get("comment_text") or "")
    text = "\n".join(part for part in (title, body) if part)
    if not text:
        raise ValueError("no text")
    created = hit.get("created_at_i")
    published_at = http.parse_timestamp(created if created is not None else hit["created_at"])
    engagement = int(hit.get("points") or 0) + int(hit.get("num_comments") or 0)
    # A comment under a story about the brand often never names it: the story's title and link
    # (Algolia sends both with every comment) are matched with it.
    story = () if title else (http.plain_text(hit.get("story_title")), http.plain_text(hit.get("story_url")))
    return Item(
        external_id=f"hn:{object_id}",
        text=text,
        published_at=published_at,
        url=http.safe_url(hit.get("url")) or HN_ITEM_URL.format(object_id),
        author=str(hit.get("author") or ""),
        engagement=max(0, engagement),
        raw={k: v for k, v in hit.items() if k != "_highlightResult"},
        match_extras=tuple(part for part in story if part),
    )
