"""Bluesky through Jetstream: a push source. ``monitoring.sources.bluesky_stream`` reads the whole
post stream once and asks this plug-in, per active bluesky source, whether a post matches and how it
maps to an Item.

Matching is local, so it must be forgiving the way people write: case-insensitive with Turkish
dotted/dotless I folded together, diacritic-insensitive (``Żabka`` matches ``zabka``, ``Şişecam``
matches ``sisecam``), and anchored at the start of a word but open at the end, so suffixes in
agglutinative languages still match (``Acme'nin``, ``acmenya``) while ``bacme`` does not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from monitoring.sources import http
from monitoring.sources.base import Connector, Item

if TYPE_CHECKING:
    from monitoring.models import Source

POST_COLLECTION = "app.bsky.feed.post"
MAX_TERMS = 200
# Letters that carry no combining mark to strip under NFKD but are written plain by many users.
_PLAIN_LETTERS = str.maketrans(
    {"ł": "l", "ı": "i", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "æ": "ae", "œ": "oe"}
)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Text folded for matching: compatibility forms, case, diacritics and dotted/dotless i unified."""
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text.translate(_PLAIN_LETTERS))


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    folded = sorted(
        {fold(t).strip() for t in terms if isinstance(t, str) and t.strip()}, key=len, reverse=True
    )
    if not folded:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in folded) + ")")


@dataclass(frozen=True)
class TermMatcher:
    """Include/exclude terms and languages of one source, compiled once per source reload."""

    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    languages: frozenset[str]

    @classmethod
    def build(
        cls, include: Iterable[str], exclude: Iterable[str] = (), languages: Iterable[str] = ()
    ) -> TermMatcher:
        return cls(
            include=_pattern(include),
            exclude=_pattern(exclude),
            languages=frozenset(str(code).lower()[:2] for code in languages if code),
        )

    def matches(self, text: str, langs: Sequence[str] = ()) -> bool:
        """True when ``text`` has an include term and no exclude term.

        ``langs`` (the post's tags) never drop a post here: they are the author's default, often
        not the post's language. Ingest drops a post only when its own text shows a language
        outside the watch's (``monitoring.intake.ingest``)."""
        if self.include is None or not text:
            return False  # no terms means nothing, never the whole firehose
        folded = fold(text)
        if not self.include.search(folded):
            return False
        return not (self.exclude and self.exclude.search(folded))

    def language_for(self, langs: Sequence[str]) -> str:
        """The post's language tag to pass on as a hint: the first one the watch wants, else the
        first one (the scorer checks it against the text)."""
        codes = [str(code).lower() for code in langs if isinstance(code, str) and code]
        for code in codes:
            if not self.languages or code[:2] in self.languages:
                return code
        return codes[0] if codes else ""


class BlueskyConnector(Connector):
    kind = "bluesky"
    pull = False
    config_fields = {
        "terms": ("Terms", False, "Words or phrases to match in posts; empty = the watch's include terms."),
        "exclude_terms": (
            "Exclude terms",
            False,
            "Posts containing any of these are skipped (besides the watch's).",
        ),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        cleaned = {}
        for name in ("terms", "exclude_terms"):
            terms = http.clean_list(config.get(name) or [], field=name)
            if len(terms) > MAX_TERMS:
                raise ValidationError({name: f"{name} takes at most {MAX_TERMS} terms"})
            if any(len(term) > 100 for term in terms):
                raise ValidationError({name: f"{name}: each term must be at most 100 characters"})
            if any(not any(ch.isalnum() for ch in term) for term in terms):
                raise ValidationError({name: f"{name}: a term has no letters or digits"})
            cleaned[name] = terms
        return cleaned

    def matcher(self, source: Source) -> TermMatcher:
        """The compiled matcher for ``source``: its own terms, else its watch's include terms."""
        config = source.config or {}
        watch = source.watch
        include = [t for t in config.get("terms") or [] if isinstance(t, str)] or list(
            watch.include_terms or []
        )
        exclude = [*(config.get("exclude_terms") or []), *(watch.exclude_terms or [])]
        return TermMatcher.build(include, exclude, watch.languages or [])

    @staticmethod
    def post_from_event(event: Any) -> dict[str, Any] | None:
        """The created post record in a Jetstream event, or None for anything else (deletes, likes…)."""
        if not isinstance(event, dict) or event.get("kind") != "commit":
            return None
        commit = event.get("commit")
        if not isinstance(commit, dict) or commit.get("collection") != POST_COLLECTION:
            return None
        if commit.get("operation") != "create" or not isinstance(commit.get("record"), dict):
            return None
        if not isinstance(event.get("did"), str) or not isinstance(commit.get("rkey"), str):
            return None
        return commit["record"]

    @staticmethod
    def post_text(record: dict[str, Any]) -> str:
        """The post text plus a link card's title and description (brands are often named only there)."""
        parts = [http.plain_text(record.get("text"))]
        embed = record.get("embed")
        external = embed.get("external") if isinstance(embed, dict) else None
        if isinstance(external, dict):
            parts += [http.plain_text(external.get("title")), http.plain_text(external.get("description"))]
        return "\n".join(part for part in parts if part)

    def item_for(self, event: dict[str, Any], matcher: TermMatcher) -> Item | None:
        """The Item for a post-create event that ``matcher`` accepts, else None."""
        record = self.post_from_event(event)
        if record is None:
            return None
        text = self.post_text(record)
        langs = [code for code in record.get("langs") or [] if isinstance(code, str)]
        if not matcher.matches(text, langs):
            return None
        return event_to_item(event, record, text=text, language=matcher.language_for(langs))


def event_to_item(event: dict[str, Any], record: dict[str, Any], *, text: str, language: str) -> Item:
    """Map a Jetstream post-create event to an Item; ``createdAt`` is the author's claim, so a missing
    or unparsable one falls back to the relay's ``time_us``."""
    did, rkey = event["did"], event["commit"]["rkey"]
    try:
        published_at = http.parse_timestamp(record.get("createdAt"))
    except ValueError:
        published_at = http.parse_timestamp(int(event.get("time_us") or 0) / 1_000_000)
    return Item(
        external_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
        text=text,
        published_at=published_at,
        url=http.safe_url(f"https://bsky.app/profile/{did}/post/{rkey}"),
        author=did,
        language=language,
        raw=event,
    )
