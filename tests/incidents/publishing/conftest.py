"""Fixtures for dark sites: a watch in two languages with a prepared site, an open incident with
drafts written by a responder, and a helper that approves a draft as a second person."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from incidents.models import Draft
from incidents.publishing.services import darksite_content_save, darksite_go_live, darksite_prepare
from incidents.response.services import draft_approve, draft_create, draft_submit
from tests.factories import IncidentFactory, WatchFactory

INTERNAL_TITLE = "Volume spike rule fired on Acme Air (internal)"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    # A memory cache of this process: the shared default (a database table) would cost the query
    # that "a cached hit reads no database row" rules out; production's is Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def watch(db):
    return WatchFactory(name="Acme Air", languages=["en", "tr"])


@pytest.fixture
def site(watch, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        site = darksite_prepare(watch=watch, slug="acme-air", by=manager)
        darksite_content_save(
            site=site,
            language="en",
            by=manager,
            title="Acme Air service status",
            background="What we know about the disruption.",
            faq=[{"question": "Will I get a refund?", "answer": "Yes, within 7 days."}],
            press_contact="press@acme-air.example",
            customer_contact="help@acme-air.example",
            resolved_notice="Service is back to normal.",
        )
        darksite_content_save(
            site=site,
            language="tr",
            by=manager,
            title="Acme Air hizmet durumu",
            faq=[{"question": "Para iadesi alacak mıyım?", "answer": "Evet, 7 gün içinde."}],
        )
    return site


@pytest.fixture
def incident(watch):
    return IncidentFactory(watch=watch, title=INTERNAL_TITLE, summary="Internal note: legal is nervous.")


@pytest.fixture
def live(site, incident, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        darksite_go_live(site=site, incident=incident, by=manager)
    site.refresh_from_db()
    return site


@pytest.fixture
def approved(incident, responder, manager):
    """``approved(body, language="en", title="")``: a draft written by the responder, approved by the manager."""

    def _approved(body: str, *, language: str = "en", title: str = "") -> Draft:
        draft = draft_create(incident=incident, by=responder, body=body, language=language, title=title)
        draft_submit(draft=draft, by=responder)
        return draft_approve(draft=draft, by=manager)

    return _approved
