"""Journey: the incident page leads with the crisis — figures, the drawn chart, older timeline
events on demand — and tells a returning responder what others changed meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.lifecycle.services import incident_acknowledge
from incidents.lifecycle.timeline import timeline_add
from incidents.room.selectors import TIMELINE_PAGE
from monitoring.models import Bucket
from tests.factories import IncidentFactory, MentionFactory, SourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_page_leads_with_the_crisis(page, live_url, login, responder, manager, dialogs):
    now = timezone.now()
    incident = IncidentFactory(title="Acme Air: baggage chaos", detected_at=now - timedelta(hours=1))
    source = SourceFactory(watch=incident.watch)
    for n in range(6):
        MentionFactory(
            source=source,
            incident=incident,
            sentiment_label="negative",
            published_at=now - timedelta(minutes=n),
        )
    Bucket.objects.create(watch=incident.watch, start=incident.detected_at, volume=6, negative=6)
    for n in range(TIMELINE_PAGE + 3):
        timeline_add(
            incident=incident, kind="note", text=f"note {n}", at=incident.detected_at + timedelta(seconds=n)
        )

    login(page, responder)
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    assert page.locator("#glance-mentions").inner_text() == "6"
    assert page.locator("#glance-share").inner_text() == "100%"
    page.locator("#crisis-chart[data-rendered]").wait_for()
    assert int(page.locator("#crisis-chart").get_attribute("data-rendered")) > 12

    timeline = page.locator("#timeline-during")
    assert timeline.locator("li.event").count() == TIMELINE_PAGE
    timeline.get_by_role("button", name="Show older events").click()
    timeline.locator("li.event").nth(TIMELINE_PAGE + 2).wait_for()
    assert timeline.locator("li.event").count() == TIMELINE_PAGE + 3
    assert timeline.get_by_role("button", name="Show older events").count() == 0

    page.goto(f"{live_url}/")  # away from the incident…
    incident_acknowledge(incident=incident, by=manager)  # …while someone else moves it on
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    since = page.locator("#since")
    assert "Since you last looked" in since.inner_text() and manager.username in since.inner_text()
    assert dialogs == []
