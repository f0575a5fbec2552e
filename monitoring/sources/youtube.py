"""YouTube comment threads (Data API v3, API key) on chosen videos and/or a whole channel.

``GET {base}/youtube/v3/commentThreads?part=snippet&videoId=…&order=time&maxResults=100`` (API key in
the ``X-Goog-Api-Key`` header)
answers newest first; ``nextPageToken`` is followed within one fetch until the comments reach what
was seen before (bounded). Quota exhaustion is temporary (it resets at midnight Pacific time), a bad
key or a video with comments turned off is permanent, named so a manager can fix the config.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from django.core.exceptions import ValidationError

from monitoring.sources import http
from monitoring.sources.base import Connector, Item, PermanentError, SourceError, TemporaryError

if TYPE_CHECKING:
    from monitoring.models import Source

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.googleapis.com"
PAGE_SIZE = 100
OVERLAP = 60  # seconds: comments of the same moment arriving across two polls
_VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
_CHANNEL_ID_RE = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_VIDEO_URL_RE = re.compile(r"(?:v=|youtu\.be/|/shorts/|/embed/)([A-Za-z0-9_-]{11})")

QUOTA_REASONS = {
    "quotaExceeded",
    "dailyLimitExceeded",
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "RATE_LIMIT_EXCEEDED",
}
KEY_REASONS = {
    "keyInvalid",
    "API_KEY_INVALID",
    "keyExpired",
    "API_KEY_EXPIRED",
    "accessNotConfigured",
    "SERVICE_DISABLED",
    "ipRefererBlocked",
    "API_KEY_SERVICE_BLOCKED",
}
VIDEO_REASONS = {"forbidden", "commentsDisabled", "videoNotFound", "channelNotFound", "processingFailure"}


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    """YouTube quotas reset at midnight Pacific time: wait until then (six hours if tzdata is missing)."""
    try:
        pacific = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        return 6 * 3600.0
    local = (now or datetime.now(tz=pacific)).astimezone(pacific)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(60.0, (midnight - local).total_seconds() + 60)


def _error_reasons(response: httpx.Response) -> tuple[set[str], str]:
    """The Google API error reasons and message in a JSON error body (empty if it is not one)."""
    try:
        payload = response.json()
    except (ValueError, UnicodeDecodeError):
        return set(), ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return set(), ""
    reasons = {
        str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")
    }
    reasons |= {
        str(d.get("reason")) for d in error.get("details") or [] if isinstance(d, dict) and d.get("reason")
    }
    return reasons, http.html_to_text(str(error.get("message") or ""))


class YouTubeConnector(Connector):
    kind = "youtube"
    config_fields = {
        "api_key": ("API key", True, "A YouTube Data API v3 key from the Google Cloud console."),
        "video_ids": ("Videos", False, "Video ids or URLs to watch (comma or line separated)."),
        "channel_id": ("Channel id", False, "UC… id: all comment threads on the channel's videos."),
        "search_terms": (
            "Search terms",
            False,
            "Only comments containing these words (YouTube's own filter).",
        ),
        "base_url": ("API base URL", False, f"Defaults to {DEFAULT_BASE_URL}."),
        "max_pages": (
            "Pages per poll",
            False,
            "Up to this many pages of 100 per video and poll (default 5).",
        ),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        video_ids = []
        for entry in http.clean_list(config.get("video_ids") or [], field="video_ids"):
            found = _VIDEO_URL_RE.search(entry)
            video_id = found.group(1) if found else entry
            if not _VIDEO_ID_RE.match(video_id):
                raise ValidationError({"video_ids": f"video_ids: {entry!r} is not a YouTube video id or URL"})
            if video_id not in video_ids:
                video_ids.append(video_id)
        channel_id = http.clean_text(config.get("channel_id"), field="channel_id", required=False)
        if channel_id and not _CHANNEL_ID_RE.match(channel_id):
            raise ValidationError(
                {"channel_id": "channel_id must be a channel id starting with UC (24 characters)"}
            )
        if not video_ids and not channel_id:
            raise ValidationError({"video_ids": "give video_ids or a channel_id"})
        return {
            "api_key": http.clean_text(config.get("api_key"), field="api_key", max_length=200),
            "video_ids": video_ids,
            "channel_id": channel_id,
            "search_terms": http.clean_text(
                config.get("search_terms"), field="search_terms", required=False, max_length=200
            ),
            "base_url": http.clean_base_url(
                config.get("base_url"), field="base_url", default=DEFAULT_BASE_URL
            ),
            "max_pages": http.clean_int(
                config.get("max_pages"), field="max_pages", default=5, minimum=1, maximum=20
            ),
        }

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        config = self.validate_config(source.config)
        states: dict[str, Any] = dict((cursor or {}).get("threads") or {})
        targets = [("videoId", v) for v in config["video_ids"]]
        if config["channel_id"]:
            targets.append(("allThreadsRelatedToChannelId", config["channel_id"]))
        items: list[Item] = []
        errors: list[SourceError] = []
        with http.http_client() as client:
            for param, value in targets:
                key = f"{param}:{value}"
                try:
                    threads = self._threads(client, config, param, value, since=states.get(key))
                except SourceError as exc:
                    errors.append(exc)
                    continue
                entries = []
                for thread in threads:
                    try:
                        item = thread_to_item(thread)
                    except (KeyError, TypeError, ValueError) as exc:
                        logger.warning(
                            "YouTube %s: skipped a malformed thread %r: %s", value, thread.get("id"), exc
                        )
                        continue
                    entries.append((item.external_id, item.published_at.timestamp(), item))
                fresh, states[key] = http.window_select(entries, states.get(key), overlap=OVERLAP)
                known = {i.external_id for i in items}
                items.extend(i for i in fresh if i.external_id not in known)
        if errors:
            raise http.combine_errors(errors)
        return items, {"threads": states}

    def _threads(
        self,
        client: httpx.Client,
        config: dict[str, Any],
        param: str,
        value: str,
        *,
        since: dict[str, Any] | None,
    ) -> list[dict[str, Any]]:
        what = f"YouTube comments ({value})"
        params: dict[str, Any] = {
            "part": "snippet",
            param: value,
            "order": "time",
            "maxResults": PAGE_SIZE,
            "textFormat": "plainText",
        }
        # Google's system parameter X-Goog-Api-Key instead of ?key=: the key stays out of URLs and logs.
        headers = {"X-Goog-Api-Key": config["api_key"]}
        if config["search_terms"]:
            params["searchTerms"] = config["search_terms"]
        # Newest first: once a page reaches the newest comment seen before, older pages hold nothing new.
        horizon = float((since or {}).get("newest") or 0)
        threads: list[dict[str, Any]] = []
        for _ in range(config["max_pages"]):
            response = http.request(
                client,
                "GET",
                f"{config['base_url']}/youtube/v3/commentThreads",
                what=what,
                params=params,
                headers=headers,
            )
            if response.status_code in (400, 403, 404):
                self._raise_api_error(response, what=what)
            http.raise_for_status(response, what=what)
            payload = http.decode_json(response, what=what)
            if not isinstance(payload, dict) or not isinstance(payload.get("items", []), list):
                raise TemporaryError(f"{what}: the answer has no list of items")
            page = [t for t in payload.get("items", []) if isinstance(t, dict)]
            threads.extend(page)
            token = payload.get("nextPageToken")
            if not since or not token or not page or _published(page[-1]) <= horizon:
                break  # a first poll takes the latest page only; later ones stop at what was seen
            params["pageToken"] = token
        return threads

    @staticmethod
    def _raise_api_error(response: httpx.Response, *, what: str) -> None:
        reasons, message = _error_reasons(response)
        if reasons & QUOTA_REASONS:
            wait = seconds_until_quota_reset() if reasons & {"quotaExceeded", "dailyLimitExceeded"} else 300.0
            raise TemporaryError(
                f"{what}: quota exceeded ({', '.join(sorted(reasons))}); waiting for the reset",
                retry_after=wait,
            )
        if reasons & KEY_REASONS:
            raise PermanentError(
                f"{what}: the API key was refused ({', '.join(sorted(reasons))}) — {message}"
            )
        if reasons & VIDEO_REASONS:
            raise PermanentError(f"{what}: {', '.join(sorted(reasons))} — {message}")
        # Not a Google JSON error (an HTML page from a proxy, say): the generic mapping names the status.


def _published(thread: dict[str, Any]) -> float:
    try:
        return http.parse_timestamp(
            thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
        ).timestamp()
    except (KeyError, TypeError, ValueError):
        return 0.0


def thread_to_item(thread: dict[str, Any]) -> Item:
    """Map one ``youtube#commentThread`` to an Item (its top-level comment). Its URL opens the
    comment under its video, or the channel for a comment without a ``videoId``."""
    snippet = thread["snippet"]
    comment = snippet["topLevelComment"]
    top = comment["snippet"]
    text = http.plain_text(top.get("textOriginal")) or http.html_to_text(top.get("textDisplay") or "")
    if not text:
        raise ValueError("no text")
    video_id = str(top.get("videoId") or snippet.get("videoId") or "")
    comment_id = str(comment.get("id") or thread["id"])
    channel_id = str(snippet.get("channelId") or top.get("channelId") or "")
    if video_id:
        url = f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}"
    elif _CHANNEL_ID_RE.match(channel_id):
        # A channel discussion has no video: the channel is the nearest page a responder can open.
        url = f"https://www.youtube.com/channel/{channel_id}"
    else:
        url = ""
    engagement = int(top.get("likeCount") or 0) + int(snippet.get("totalReplyCount") or 0)
    return Item(
        external_id=f"yt:{thread['id']}",
        text=text,
        published_at=http.parse_timestamp(top["publishedAt"]),
        url=http.safe_url(url),
        author=http.plain_text(top.get("authorDisplayName")),
        engagement=max(0, engagement),
        raw=thread,
    )
