"""The small interface every source connector implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from monitoring.models import Source


@dataclass
class Item:
    """One mention as a connector normalised it, before it is stored."""

    external_id: str
    text: str
    published_at: datetime
    url: str = ""
    author: str = ""
    author_reach: int = 0
    engagement: int = 0
    language: str = ""  # the platform's own language tag, if it has one
    raw: dict[str, Any] = field(default_factory=dict)
    # What the platform carries with the post but does not show in ``text``: full link URLs behind
    # shortened ones, image alt text, the story a comment answers. Matched against terms, never stored
    # as the mention's text (``monitoring.intake.normalise.match_text``).
    match_extras: tuple[str, ...] = ()


class SourceError(Exception):
    """A fetch failed. ``permanent`` says whether retrying can help."""

    permanent: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TemporaryError(SourceError):
    """Network trouble, 5xx, 429: back off, keep the cursor, try again."""

    permanent = False


class PermanentError(SourceError):
    """Bad credentials, a closed API, a broken config: mark the source failing until someone fixes it."""

    permanent = True


class Connector:
    """Base class for connectors. Pull connectors implement ``fetch``; push ones set ``pull = False``."""

    kind: ClassVar[str] = ""
    pull: ClassVar[bool] = True
    # JSON-schema-like description used by the setup page: name -> (label, required, help)
    config_fields: ClassVar[dict[str, tuple[str, bool, str]]] = {}

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Return the cleaned config or raise ``django.core.exceptions.ValidationError``."""
        return config

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        """Fetch new items after ``cursor``; return them and the cursor to save after they are stored."""
        raise NotImplementedError(f"{self.kind} is a push source; it is never polled")
