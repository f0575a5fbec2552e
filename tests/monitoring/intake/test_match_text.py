"""The match text: what the post shows plus what it carries (full link URLs, alt text, the story a
comment answers), matched against terms but never stored as the mention's text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.intake.ingest import ingest_items
from monitoring.intake.normalise import match_text, url_words
from monitoring.models import Mention
from monitoring.sources.base import Item
from tests.factories import SourceFactory, WatchFactory


def test_url_words_split_a_slug_and_decode_it():
    assert url_words("https://news.example/2026/acme-air_refunds?q=%C5%BCabka") == (
        "news example 2026 acme air refunds q żabka"
    )
    assert url_words("HTTP://Acme.example") == "Acme example"


def test_match_text_adds_urls_with_their_words_and_plain_extras():
    found = match_text("read this: news.example/acme-a...", ["https://news.example/acme-air", "a  photo\x00"])

    assert (
        found
        == "read this: news.example/acme-a...\nhttps://news.example/acme-air\nnews example acme air\na photo"
    )


def test_match_text_is_the_text_when_there_is_nothing_new_to_add():
    assert match_text("Acme Air statement", []) == "Acme Air statement"
    assert match_text("Acme Air statement", ["", "  ", "Acme Air"]) == "Acme Air statement"


def test_a_url_the_text_shows_in_full_still_adds_its_words():
    text = "strike! https://news.example/acme-air-strike"

    assert (
        match_text(text, ["https://news.example/acme-air-strike"]) == f"{text}\nnews example acme air strike"
    )


def test_match_text_repeats_no_extra_and_ignores_what_is_not_text():
    assert match_text("x", ["alt", "alt", None, 5]) == "x\nalt"  # type: ignore[list-item]


def test_match_text_is_capped_like_the_stored_text():
    assert len(match_text("a", ["b" * 20_000])) == 10_000


@pytest.fixture
def source(db):
    return SourceFactory(watch=WatchFactory(name="Acme Air", exclude_terms=["hiring"]))


def _item(external_id: str, **values) -> Item:
    return Item(
        external_id=external_id,
        text="cheap tickets here: deals.example/acme-ai...",
        published_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        **values,
    )


def test_exclude_terms_see_what_the_post_carries(source):
    result = ingest_items(
        source=source,
        items=[
            _item("spam", match_extras=("https://deals.example/acme-air-hiring-now",)),
            _item("kept", match_extras=("https://deals.example/acme-air-refunds",)),
        ],
    )

    assert (result.created, result.dropped) == (1, 1)
    kept = Mention.objects.get()
    assert kept.external_id == "kept"
    # What is stored and scored is the visible text; the URLs stay in the match only.
    assert kept.text == "cheap tickets here: deals.example/acme-ai..."
