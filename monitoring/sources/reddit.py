"""Reddit search with app-only OAuth (a "script"/"web" app's client id and secret, no user account).

The token from ``POST {auth_base}/api/v1/access_token`` (grant_type=client_credentials) lives about
a day; it is kept in the cursor until shortly before it expires. A 401 on search means the token
went stale: one fresh token is fetched and the search retried once, then it is a permanent error.
The cursor is the newest ``created_utc`` seen plus the ids seen in a look-back window, because
Reddit's search index publishes posts late.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

import httpx
from django.core.exceptions import ValidationError

from monitoring.sources import http
from monitoring.sources.base import Connector, Item, PermanentError, TemporaryError

if TYPE_CHECKING:
    from monitoring.models import Source

logger = logging.getLogger(__name__)

DEFAULT_AUTH_BASE = "https://www.reddit.com"
DEFAULT_API_BASE = "https://oauth.reddit.com"
PAGE_LIMIT = 100
OVERLAP = 600  # seconds
TOKEN_MARGIN = 120  # refresh this long before the token expires
_SUBREDDIT_RE = re.compile(r"^[A-Za-z0-9_]{2,21}$")


class RedditConnector(Connector):
    kind = "reddit"
    config_fields = {
        "client_id": ("Client id", True, "From reddit.com/prefs/apps (an app of type 'script' or 'web')."),
        "client_secret": ("Client secret", True, "The app's secret; stored with the source."),
        "query": ("Search query", True, 'Reddit search syntax, e.g. "acme air" OR acmeair.'),
        "subreddit": ("Subreddit", False, "Restrict the search to one subreddit (name without r/)."),
        "user_agent": ("User-Agent", False, "Reddit asks for platform:app:version (by /u/you)."),
        "auth_base": ("Auth base URL", False, f"Defaults to {DEFAULT_AUTH_BASE}."),
        "api_base": ("API base URL", False, f"Defaults to {DEFAULT_API_BASE}."),
        "max_pages": ("Pages per poll", False, "Up to this many pages of 100 per poll (default 3)."),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        subreddit = http.clean_text(config.get("subreddit"), field="subreddit", required=False).removeprefix(
            "r/"
        )
        if subreddit and not _SUBREDDIT_RE.match(subreddit):
            raise ValidationError({"subreddit": "subreddit must be a subreddit name such as CustomerService"})
        client_id = http.clean_text(config.get("client_id"), field="client_id", max_length=100)
        return {
            "client_id": client_id,
            "client_secret": http.clean_text(
                config.get("client_secret"), field="client_secret", max_length=200
            ),
            "query": http.clean_text(config.get("query"), field="query", max_length=512),
            "subreddit": subreddit,
            "user_agent": http.clean_text(
                config.get("user_agent"), field="user_agent", required=False, max_length=200
            )
            or f"server:crisisdesk:0.1 (self-hosted crisis monitoring; app {client_id})",
            "auth_base": http.clean_base_url(
                config.get("auth_base"), field="auth_base", default=DEFAULT_AUTH_BASE
            ),
            "api_base": http.clean_base_url(
                config.get("api_base"), field="api_base", default=DEFAULT_API_BASE
            ),
            "max_pages": http.clean_int(
                config.get("max_pages"), field="max_pages", default=3, minimum=1, maximum=10
            ),
        }

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        config = self.validate_config(source.config)
        cursor = dict(cursor or {})
        newest = float(cursor.get("newest") or 0)
        with http.http_client(headers={"User-Agent": config["user_agent"]}) as client:
            token = cursor.get("token") or {}
            if (
                not token.get("access_token")
                or float(token.get("expires_at") or 0) < time.time() + TOKEN_MARGIN
            ):
                token = self._token(client, config)
            posts, token = self._search(client, config, token, paginate=bool(newest), since=newest - OVERLAP)
        entries = []
        for post in posts:
            try:
                item = post_to_item(post)
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("Reddit search: skipped a malformed post %r: %s", post.get("name"), exc)
                continue
            entries.append((item.external_id, item.published_at.timestamp(), item))
        items, state = http.window_select(entries, cursor, overlap=OVERLAP)
        return items, {**state, "token": token}

    def _token(self, client: httpx.Client, config: dict[str, Any]) -> dict[str, Any]:
        what = "Reddit OAuth token"
        response = http.request(
            client,
            "POST",
            f"{config['auth_base']}/api/v1/access_token",
            what=what,
            data={"grant_type": "client_credentials"},
            auth=(config["client_id"], config["client_secret"]),
        )
        if response.status_code == 401:
            raise PermanentError(f"{what}: Reddit refused the client id/secret (HTTP 401)")
        http.raise_for_status(response, what=what)
        payload = http.decode_json(response, what=what)
        if not isinstance(payload, dict) or not payload.get("access_token"):
            error = payload.get("error") if isinstance(payload, dict) else None
            if error:
                raise PermanentError(f"{what}: Reddit refused the app credentials ({error})")
            raise TemporaryError(f"{what}: the answer carried no access_token")
        expires_in = float(payload.get("expires_in") or 3600)
        return {"access_token": str(payload["access_token"]), "expires_at": time.time() + expires_in}

    def _search(
        self,
        client: httpx.Client,
        config: dict[str, Any],
        token: dict[str, Any],
        *,
        paginate: bool,
        since: float,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        what = "Reddit search"
        path = f"/r/{config['subreddit']}/search" if config["subreddit"] else "/search"
        params: dict[str, Any] = {
            "q": config["query"],
            "sort": "new",
            "limit": PAGE_LIMIT,
            "type": "link",
            "raw_json": 1,  # otherwise Reddit HTML-escapes &, < and > inside text fields
        }
        if config["subreddit"]:
            params["restrict_sr"] = 1
        posts: list[dict[str, Any]] = []
        refreshed = False
        page = 0
        while page < config["max_pages"]:
            response = http.request(
                client,
                "GET",
                f"{config['api_base']}{path}",
                what=what,
                params=params,
                headers={"Authorization": f"bearer {token['access_token']}"},
            )
            if response.status_code == 401 and not refreshed:
                refreshed = True
                token = self._token(client, config)
                continue
            http.raise_for_status(response, what=what)
            listing = http.decode_json(response, what=what)
            data = listing.get("data") if isinstance(listing, dict) else None
            children = data.get("children") if isinstance(data, dict) else None
            if not isinstance(data, dict) or not isinstance(children, list):
                raise TemporaryError(f"{what}: the answer is not a listing")
            page_posts = [
                c["data"] for c in children if isinstance(c, dict) and isinstance(c.get("data"), dict)
            ]
            posts.extend(page_posts)
            page += 1
            after = data.get("after")
            oldest = min((float(p.get("created_utc") or 0) for p in page_posts), default=0)
            if not paginate or not after or oldest <= since:
                break
            params["after"] = after
        return posts, token


def post_to_item(post: dict[str, Any]) -> Item:
    """Map one Reddit post (``t3`` listing child data) to an Item: its URL is the discussion
    (permalink), and a link post's linked URL is kept in ``match_extras``."""
    name = str(post.get("name") or (f"t3_{post['id']}" if post.get("id") else ""))
    if not name:
        raise ValueError("no id")
    title = http.plain_text(post.get("title"))
    body = http.plain_text(post.get("selftext"))
    text = "\n\n".join(part for part in (title, body) if part)
    if not text:
        raise ValueError("no text")
    permalink = post.get("permalink")
    url = (
        http.safe_url(f"https://www.reddit.com{permalink}")
        if isinstance(permalink, str) and permalink.startswith("/")
        else ""
    )
    engagement = int(post.get("score") or 0) + int(post.get("num_comments") or 0)
    # A link post's own text is often just a title: the page it links to (a news story naming the
    # brand only in its address) is matched too. The mention's URL stays the discussion.
    linked = "" if post.get("is_self") else http.safe_url(post.get("url"))
    return Item(
        external_id=f"reddit:{name}",
        text=text,
        published_at=http.parse_timestamp(float(post["created_utc"])),
        url=url or http.safe_url(post.get("url")),
        author=f"u/{post['author']}" if post.get("author") else "",
        # Reddit exposes no follower counts in search: the subreddit's audience is the reach that matters.
        author_reach=max(0, int(post.get("subreddit_subscribers") or 0)),
        engagement=max(0, engagement),
        raw=post,
        match_extras=(linked,) if linked and linked != url else (),
    )
