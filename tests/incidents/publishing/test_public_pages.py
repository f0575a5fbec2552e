"""The public page and feed: dark is 404, live shows only published words newest first in the
reader's language, resolved keeps the history; cache headers for a CDN and no database on a cached hit."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from incidents.publishing.services import darksite_publish, darksite_switch_off
from incidents.response.services import evidence_capture, reply_record
from tests.factories import MentionFactory
from tests.incidents.publishing.conftest import INTERNAL_TITLE

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def page(path="/status/acme-air/", **headers):
    return Client().get(path, **headers)


def publish(draft, by, capture, **kwargs):
    with capture(execute=True):
        return darksite_publish(draft=draft, by=by, **kwargs)


def test_a_dark_site_is_not_found_and_the_team_can_preview_it(site, client_for, viewer):
    assert page().status_code == 404
    assert page("/status/acme-air/feed/").status_code == 404
    assert page("/status/no-such-site/").status_code == 404
    preview = client_for(viewer).get(f"/incidents/darksites/{site.pk}/preview/")
    assert preview.status_code == 200
    assert preview["Cache-Control"] == "private, no-store"
    assert b"Acme Air service status" in preview.content and b"Preview for the team" in preview.content
    assert Client().get(f"/incidents/darksites/{site.pk}/preview/").status_code == 302


def test_live_it_shows_published_updates_newest_first(
    live, approved, responder, django_capture_on_commit_callbacks
):
    publish(approved("First: we are looking into delays."), responder, django_capture_on_commit_callbacks)
    publish(approved("Second: flights resume at 16:00."), responder, django_capture_on_commit_callbacks)
    response = page()
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Second: flights resume") < html.index("First: we are looking")
    assert "Will I get a refund?" in html and "press@acme-air.example" in html
    assert "<script" not in html  # works without JavaScript


def test_publishing_shows_at_once_despite_the_cache(
    live, approved, responder, django_capture_on_commit_callbacks
):
    assert "No updates have been published yet" in page().content.decode()
    publish(approved("Now we know more."), responder, django_capture_on_commit_callbacks)
    assert "Now we know more." in page().content.decode()


def test_the_reader_gets_their_language_when_a_translation_was_published(
    live, approved, responder, django_capture_on_commit_callbacks
):
    original = publish(approved("We are looking into delays."), responder, django_capture_on_commit_callbacks)
    publish(
        approved("Rötarları inceliyoruz.", language="tr"),
        responder,
        django_capture_on_commit_callbacks,
        translation_of=original,
    )
    publish(approved("Only in English."), responder, django_capture_on_commit_callbacks)
    turkish = page(HTTP_ACCEPT_LANGUAGE="tr-TR,tr;q=0.9,en;q=0.5")
    text = turkish.content.decode()
    assert turkish["Content-Language"] == "tr"
    assert "Rötarları inceliyoruz." in text and "We are looking into delays." not in text
    assert "Only in English." in text  # no translation: the watch's first language
    assert "Para iadesi alacak mıyım?" in text  # the prepared words in Turkish
    polish = page(HTTP_ACCEPT_LANGUAGE="pl")  # not a language of the watch: its first one
    assert "We are looking into delays." in polish.content.decode() and polish["Content-Language"] == "en"
    assert "Rötarları" in page("/status/acme-air/?lang=tr").content.decode()


def test_corrections_say_what_changed(live, approved, responder, django_capture_on_commit_callbacks):
    first = publish(approved("Flights resume at 14:00."), responder, django_capture_on_commit_callbacks)
    publish(
        approved("Flights resume at 16:00."),
        responder,
        django_capture_on_commit_callbacks,
        corrects=first,
        change_note="The time is 16:00, not 14:00.",
    )
    html = page().content.decode()
    assert "The time is 16:00, not 14:00." in html
    assert "Flights resume at 14:00." in html  # the corrected update stays readable


def test_next_update_line(live, approved, responder, django_capture_on_commit_callbacks):
    due = (timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
    publish(approved("Words."), responder, django_capture_on_commit_callbacks, next_update_due=due)
    assert f"Next update by {due:%Y-%m-%d %H:%M} UTC" in page().content.decode()


def test_switched_off_it_shows_the_resolved_notice_and_the_history(
    live, approved, responder, manager, django_capture_on_commit_callbacks
):
    publish(approved("We are looking into delays."), responder, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        darksite_switch_off(site=live, by=manager)
    html = page().content.decode()
    assert "Service is back to normal." in html and "We are looking into delays." in html


def test_nothing_internal_reaches_the_public_page_or_feed(
    live, incident, approved, responder, manager, django_capture_on_commit_callbacks
):
    mention = MentionFactory(
        watch=live.watch,
        source__watch=live.watch,
        text="SECRET mention text from a customer",
        author="angry_customer_42",
        incident=incident,
    )
    reply_record(incident=incident, mention=mention, by=responder, text="Internal reply text")
    evidence_capture(incident=incident, mention=mention, by=responder, note="Internal evidence note")
    publish(
        approved("We are looking into delays.", title="Delays"), responder, django_capture_on_commit_callbacks
    )
    for path in ("/status/acme-air/", "/status/acme-air/feed/", "/status/acme-air/?lang=tr"):
        body = page(path).content.decode()
        for secret in (
            "SECRET mention text",
            "angry_customer_42",
            "Internal reply text",
            "Internal evidence note",
            "Internal note: legal is nervous.",
            INTERNAL_TITLE,
            responder.username,
            manager.username,
            responder.email,
            manager.email,
            "@example.com",
        ):
            assert secret not in body, f"{secret!r} on {path}"


def test_titles_and_words_are_escaped(live, approved, responder, django_capture_on_commit_callbacks):
    publish(
        approved("<script>alert(1)</script> & more", title="<b>bold</b>"),
        responder,
        django_capture_on_commit_callbacks,
    )
    html = page().content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<b>bold</b>" not in html
    feed = page("/status/acme-air/feed/").content.decode()
    assert "<script>" not in feed


def test_cache_headers_let_a_cdn_serve_it_and_an_etag_answers_304(live):
    response = page()
    assert response["Cache-Control"].startswith("public, max-age=")
    assert response["Vary"] == "Accept-Language"
    assert "Set-Cookie" not in response
    assert (
        "Content-Security-Policy" in response and "script-src 'self'" in response["Content-Security-Policy"]
    )
    again = page(HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert page(HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_a_cached_hit_reads_no_database_row(live, django_assert_num_queries):
    assert page().status_code == 200  # fills the cache
    assert page("/status/acme-air/feed/").status_code == 200
    with django_assert_num_queries(0):
        assert page().status_code == 200
        assert page("/status/acme-air/feed/").status_code == 200
        assert page(HTTP_IF_NONE_MATCH=page()["ETag"]).status_code == 304


def test_a_public_page_refuses_post(live):
    assert Client().post("/status/acme-air/").status_code == 405


def test_the_feed_is_atom_with_the_updates(live, approved, responder, django_capture_on_commit_callbacks):
    publish(
        approved("We are looking into delays.", title="Delays"), responder, django_capture_on_commit_callbacks
    )
    response = page("/status/acme-air/feed/")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    entries = root.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Delays"]
    assert entries[0].find(f"{ATOM}link").get("href").startswith("http://testserver/status/acme-air/#update-")
    assert "We are looking into delays." in entries[0].findtext(f"{ATOM}summary")
