"""Source connectors: one plug-in per kind, registered here by dotted path (imported lazily)."""

from __future__ import annotations

from importlib import import_module

from monitoring.sources.base import Connector, Item, PermanentError, SourceError, TemporaryError

CONNECTORS: dict[str, str] = {
    "rss": "monitoring.sources.rss.RssConnector",
    "mastodon": "monitoring.sources.mastodon.MastodonConnector",
    "hackernews": "monitoring.sources.hackernews.HackerNewsConnector",
    "bluesky": "monitoring.sources.bluesky.BlueskyConnector",
    "reddit": "monitoring.sources.reddit.RedditConnector",
    "youtube": "monitoring.sources.youtube.YouTubeConnector",
    "webhook": "monitoring.sources.webhook.WebhookConnector",
    "import": "monitoring.sources.file_import.ImportConnector",
    "drill": "monitoring.sources.drill.DrillConnector",
}


def get_connector(kind: str) -> Connector:
    """The connector instance for a source kind; KeyError for an unknown kind."""
    module_name, _, class_name = CONNECTORS[kind].rpartition(".")
    return getattr(import_module(module_name), class_name)()


__all__ = [
    "CONNECTORS",
    "Connector",
    "Item",
    "PermanentError",
    "SourceError",
    "TemporaryError",
    "get_connector",
]
