"""Journey in Chromium: a responder searches the mention explorer, filters it, adds a pre-crisis
mention to the open incident, answers it and lands back on the explorer; at a phone's width the
page never scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Reply, TimelineEvent
from monitoring.models import Mention
from tests.factories import IncidentFactory, MentionFactory, SourceFactory, WatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE_WIDTH = 390


def _crisis():
    watch = WatchFactory(name="Acme Air", languages=["en", "tr"])
    source = SourceFactory(watch=watch, name="Brandwatch push with a rather long source name for phones")
    now = timezone.now()
    incident = IncidentFactory(watch=watch, detected_at=now - timedelta(minutes=30))
    early = MentionFactory(
        source=source,
        text="Acme Air flights delayed for hours at IST, nobody tells us anything",
        author="@early_flyer",
        author_reach=12_000,
        language="en",
        sentiment_label="negative",
        risk=0.7,
        url="https://social.example/@early_flyer/1",
        published_at=now - timedelta(days=1),
    )
    MentionFactory(
        source=source,
        text="Acme Air crew were lovely today",
        language="en",
        sentiment_label="positive",
        published_at=now - timedelta(hours=2),
    )
    MentionFactory(source=source, text="x" * 900, language="en", published_at=now - timedelta(hours=3))
    return incident, early


def test_search_filter_add_to_incident_answer_and_come_back(page, live_url, login, responder, dialogs):
    incident, early = _crisis()
    login(page, responder)
    page.goto(f"{live_url}/monitoring/")
    page.get_by_role("link", name="Mentions", exact=True).click()
    page.wait_for_url("**/monitoring/mentions/")

    page.fill("#id_q", "delayed hours")
    page.select_option("#id_sentiment", "negative")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=delayed**")
    rows = page.locator(".explorer-row")
    assert rows.count() == 1
    row = page.locator(f"#mention-{early.pk}")
    assert "delayed for hours" in row.inner_text()
    assert row.locator("a.open-source").get_attribute("href") == "https://social.example/@early_flyer/1"

    row.get_by_role("button", name=f"Add to incident #{incident.pk}").click()
    page.wait_for_url("**q=delayed**")
    assert f"Mention added to incident #{incident.pk}" in page.locator("body").inner_text()
    assert Mention.objects.get(pk=early.pk).incident_id == incident.pk

    row = page.locator(f"#mention-{early.pk}")
    row.locator("summary", has_text="Answer").click()
    row.locator("textarea[name=text]").fill("Sorry for the wait: DM us your booking reference.")
    row.get_by_role("button", name="Save reply").click()
    page.wait_for_url("**q=delayed**")
    assert "/monitoring/mentions/" in page.url
    assert Reply.objects.get(mention=early).replied_by == responder
    assert "answered" in page.locator(f"#mention-{early.pk}").inner_text()
    assert TimelineEvent.objects.filter(incident=incident, kind="mention-added", mention=early).exists()

    # From the incident page's queue, "all mentions of this incident" opens the explorer narrowed to it.
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    page.locator("a.all-mentions").click()
    page.wait_for_url(f"**incident={incident.pk}**")
    assert page.locator(".explorer-row").count() == 1
    assert dialogs == []


def test_the_explorer_fits_a_phone(browser, live_url, login, responder):
    _crisis()
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        login(page, responder)
        page.goto(f"{live_url}/monitoring/mentions/")
        page.wait_for_selector(".explorer-row")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    finally:
        context.close()
