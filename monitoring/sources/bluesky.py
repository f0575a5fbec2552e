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
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from monitoring.intake.normalise import match_text
from monitoring.sources import http
from monitoring.sources.base import Connector, Item

if TYPE_CHECKING:
    from monitoring.models import Source

POST_COLLECTION = "app.bsky.feed.post"
LINK_FACET = "app.bsky.richtext.facet#link"
EXTERNAL_EMBED = "app.bsky.embed.external"
IMAGES_EMBED = "app.bsky.embed.images"
VIDEO_EMBED = "app.bsky.embed.video"
RECORD_WITH_MEDIA_EMBED = "app.bsky.embed.recordWithMedia"
_EMBED_KEYS = {EXTERNAL_EMBED: "external", IMAGES_EMBED: "images", VIDEO_EMBED: "video"}
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


@dataclass
class Post:
    """A created post as matching reads it: ``text`` is what people see (and what is stored),
    ``extras`` what it carries without showing (``BlueskyConnector.post_extras``), ``match_text``
    both together (``normalise.match_text``)."""

    event: dict[str, Any]
    record: dict[str, Any]
    text: str
    extras: tuple[str, ...]
    langs: list[str]

    @classmethod
    def of_text(cls, text: str, langs: Sequence[str] = ()) -> Post:
        return cls(event={}, record={}, text=text, extras=(), langs=list(langs))

    @cached_property
    def match_text(self) -> str:
        return match_text(self.text, self.extras)

    @cached_property
    def folded(self) -> str:
        return fold(self.match_text)


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
        return self.matches_post(Post.of_text(text, langs))

    def matches_post(self, post: Post) -> bool:
        """``matches`` for a post read once (``BlueskyConnector.read_post``): its text is folded at
        most once, however many sources' matchers ask. Its language tags never decide (above)."""
        if self.include is None or not post.match_text:
            return False  # no terms means nothing, never the whole firehose
        folded = post.folded
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
        """The text people see: the post text plus a link card's title and description (brands are
        often named only there), also when the card sits beside a quoted post."""
        parts = [http.plain_text(record.get("text"))]
        external = _embedded(record, EXTERNAL_EMBED).get("external")
        if isinstance(external, dict):
            parts += [http.plain_text(external.get("title")), http.plain_text(external.get("description"))]
        return "\n".join(part for part in parts if part)

    @staticmethod
    def post_extras(record: dict[str, Any]) -> list[str]:
        """What the post carries but does not show as text, for matching only: the full URLs of its
        links (the text holds them shortened, ``acmeair.com/refund-po...``; the whole URL is only in
        the link facets), the link card's URL, and the alt text of its images and video."""
        extras: list[str] = []
        facets = record.get("facets")
        for facet in facets if isinstance(facets, list) else []:
            features = facet.get("features") if isinstance(facet, dict) else None
            for feature in features if isinstance(features, list) else []:
                if isinstance(feature, dict) and feature.get("$type") == LINK_FACET:
                    extras.append(http.plain_text(feature.get("uri")))
        external = _embedded(record, EXTERNAL_EMBED).get("external")
        if isinstance(external, dict):
            extras.append(http.plain_text(external.get("uri")))
        images = _embedded(record, IMAGES_EMBED).get("images")
        for image in images if isinstance(images, list) else []:
            if isinstance(image, dict):
                extras.append(http.plain_text(image.get("alt")))
        extras.append(http.plain_text(_embedded(record, VIDEO_EMBED).get("alt")))
        return [extra for extra in extras if extra]

    def read_post(self, event: Any) -> Post | None:
        """The post a Jetstream post-create event carries, read once for every source's matcher;
        None for any other event (deletes, likes…)."""
        record = self.post_from_event(event)
        if record is None:
            return None
        langs = [code for code in record.get("langs") or [] if isinstance(code, str)]
        return Post(
            event=event,
            record=record,
            text=self.post_text(record),
            extras=tuple(self.post_extras(record)),
            langs=langs,
        )

    def item_for_post(self, post: Post, matcher: TermMatcher) -> Item | None:
        """The Item for ``post`` if ``matcher`` accepts it, else None. Terms are matched on the
        visible text plus the post's extras; the Item's text stays the visible text."""
        if not matcher.matches_post(post):
            return None
        item = event_to_item(
            post.event, post.record, text=post.text, language=matcher.language_for(post.langs)
        )
        item.match_extras = post.extras
        return item

    def item_for(self, event: dict[str, Any], matcher: TermMatcher) -> Item | None:
        """The Item for a post-create event that ``matcher`` accepts, else None."""
        post = self.read_post(event)
        return None if post is None else self.item_for_post(post, matcher)


def _embedded(record: dict[str, Any], embed_type: str) -> dict[str, Any]:
    """The record's embed of ``embed_type``, directly or as the media beside a quoted post
    (``app.bsky.embed.recordWithMedia``); ``{}`` when there is none."""
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return {}
    if embed.get("$type") == RECORD_WITH_MEDIA_EMBED:
        embed = embed.get("media")
        if not isinstance(embed, dict):
            return {}
    found_type = embed.get("$type")
    # Records written by some clients leave out the embed's $type: recognise those by their key.
    if found_type == embed_type or (found_type is None and _EMBED_KEYS[embed_type] in embed):
        return embed
    return {}


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
