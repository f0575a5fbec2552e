"""The RSS/Atom connector against recorded feed bodies served from 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from monitoring.intake.ingest import ingest_items
from monitoring.models import Mention
from monitoring.sources import get_connector
from monitoring.sources.base import PermanentError, TemporaryError
from monitoring.sources.rss import unwrap_link
from tests.factories import SourceFactory
from tests.recorded_server import Reply

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
XML = "application/rss+xml; charset=utf-8"


def feed(name: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    content_type = "text/html; charset=utf-8" if name.endswith(".html") else XML
    return Reply(status, (FEEDS / name).read_bytes(), headers or {}, content_type)


@pytest.fixture
def connector():
    return get_connector("rss")


def rss_source(server, path: str = "/feed.xml"):
    return SourceFactory.build(kind="rss", config={"url": server.url + path})


def test_it_reads_an_rss_2_feed(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("rss20.xml"))

    items, cursor = connector.fetch(rss_source(recorded_server), {})

    assert [i.external_id for i in items] == ["td-4711", "td-4702"]
    first = items[0]
    assert first.text == (
        "Acme Air grounds flights after IT outage\nPassengers of Acme Air are stranded at & around Heathrow."
    )
    assert first.url == "https://traveldesk.example.com/news/acme-air-outage"
    assert first.author == "Jane Reporter"
    assert first.language == "en"
    assert first.published_at == datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    assert cursor["seen"] == ["td-4711", "td-4702"]
    assert cursor["latest"] == "2026-11-16T09:30:00+00:00"
    request = recorded_server.requests_to("/feed.xml")[0]
    assert request.headers["user-agent"].startswith("CrisisDesk/")


def test_it_reads_an_atom_feed_with_its_language(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("atom.xml"))

    (entry,), _ = connector.fetch(rss_source(recorded_server), {})

    assert entry.external_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.language == "pl"
    assert entry.author == "Kasia Nowak"
    assert entry.text.endswith("Pasażerowie czekają na lotnisku od rana. Zwrot pieniędzy? Nie wiadomo.")


def test_google_alerts_links_are_unwrapped_to_the_article(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("google_alerts.xml"))

    items, _ = connector.fetch(rss_source(recorded_server), {})

    assert [i.url for i in items] == [
        "https://news.example.com/2026/11/16/acme-air-refunds?utm_source=x",
        "https://www.blog.example.org/acme-leak",
    ]
    assert items[0].text.startswith(
        "Acme Air passengers demand refunds after outage\nAngry travellers say Acme Air"
    )
    assert "<b>" not in items[0].text
    assert [i.author for i in items] == ["news.example.com", "blog.example.org"]
    assert items[0].external_id == "tag:google.com,2013:googlealerts/feed:10401740000000000001"


def test_talkwalker_alert_links_are_unwrapped(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("talkwalker_alerts.xml"))

    (entry,), _ = connector.fetch(rss_source(recorded_server), {})

    assert entry.url == "https://haber.example.com.tr/acme-air-bagaj"


def test_unwrap_leaves_ordinary_links_and_refuses_to_unwrap_into_javascript():
    assert (
        unwrap_link("https://example.com/a?url=https://other.example")
        == "https://example.com/a?url=https://other.example"
    )
    wrapped = "https://www.google.com/url?url=javascript:alert(1)"
    assert unwrap_link(wrapped) == wrapped


def test_entries_already_seen_are_not_returned_again(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("rss20.xml"))
    source = rss_source(recorded_server)

    _, cursor = connector.fetch(source, {})
    items, again = connector.fetch(source, cursor)

    assert items == []
    assert again["seen"] == cursor["seen"]


def test_it_sends_a_conditional_get_and_a_304_changes_nothing(recorded_server, connector):
    recorded_server.route(
        "GET",
        "/feed.xml",
        feed("rss20.xml", headers={"ETag": '"v1"', "Last-Modified": "Mon, 16 Nov 2026 09:30:00 GMT"}),
        Reply(304, b""),
    )
    source = rss_source(recorded_server)

    _, cursor = connector.fetch(source, {})
    items, after = connector.fetch(source, cursor)

    assert items == [] and after == cursor
    conditional = recorded_server.requests_to("/feed.xml")[1]
    assert conditional.headers["if-none-match"] == '"v1"'
    assert conditional.headers["if-modified-since"] == "Mon, 16 Nov 2026 09:30:00 GMT"


def test_an_empty_feed_is_no_items_not_an_error(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("empty.xml"))

    items, cursor = connector.fetch(rss_source(recorded_server), {})

    assert items == [] and cursor["seen"] == []


def test_a_script_in_an_entry_is_stored_as_inert_text(db, recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("script_entry.xml"))
    source = SourceFactory(kind="rss", config={"url": recorded_server.url + "/feed.xml"})

    items, _ = connector.fetch(source, {})
    ingest_items(source=source, items=items)

    mention = Mention.objects.get(source=source)
    assert mention.text == "Acme Air lost my bag\nStill no bag."
    assert "<" not in mention.text and "onerror" not in mention.text and "evil.example" not in mention.text
    assert mention.url == ""  # javascript: never becomes a link


@pytest.mark.parametrize("status", [401, 404, 410])
def test_refusals_that_retrying_cannot_fix_are_permanent(recorded_server, connector, status):
    recorded_server.route("GET", "/feed.xml", Reply(status, b"nope"))

    with pytest.raises(PermanentError, match=str(status)):
        connector.fetch(rss_source(recorded_server), {})


def test_a_403_with_an_html_page_is_permanent_and_names_the_page(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("forbidden.html", status=403))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(rss_source(recorded_server), {})

    assert "403" in str(raised.value) and "Access denied | Cloud shield" in str(raised.value)
    assert "<" not in str(raised.value)


def test_a_429_is_temporary_and_carries_retry_after(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", Reply(429, b"slow down", {"Retry-After": "120"}))

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(rss_source(recorded_server), {})

    assert raised.value.retry_after == 120


def test_a_500_is_temporary(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", Reply(500, b"boom"))

    with pytest.raises(TemporaryError, match="500"):
        connector.fetch(rss_source(recorded_server), {})


def test_a_malformed_body_is_permanent_with_a_clear_message(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("malformed.xml"))

    with pytest.raises(PermanentError, match="not a readable RSS/Atom feed"):
        connector.fetch(rss_source(recorded_server), {})


def test_an_html_page_instead_of_a_feed_is_permanent(recorded_server, connector):
    recorded_server.route("GET", "/feed.xml", feed("forbidden.html"))

    with pytest.raises(PermanentError, match="not a readable RSS/Atom feed"):
        connector.fetch(rss_source(recorded_server), {})


def test_a_feed_cut_off_after_its_header_is_temporary(recorded_server, connector):
    body = (FEEDS / "rss20.xml").read_bytes()
    recorded_server.route("GET", "/feed.xml", Reply(200, body[: body.index(b"<item>") + 20], {}, XML))

    with pytest.raises(TemporaryError, match="incomplete or broken"):
        connector.fetch(rss_source(recorded_server), {})


def test_an_unreachable_host_is_temporary(connector):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = SourceFactory.build(kind="rss", config={"url": f"http://127.0.0.1:{port}/feed.xml"})

    with pytest.raises(TemporaryError):
        connector.fetch(source, {})


def test_config_needs_an_http_url(connector):
    assert connector.validate_config({"url": " https://example.com/feed "}) == {
        "url": "https://example.com/feed"
    }
    for bad in ({}, {"url": "javascript:alert(1)"}, {"url": "example.com/feed"}):
        with pytest.raises(ValidationError) as raised:
            connector.validate_config(bad)
        assert "url" in raised.value.message_dict
