"""Journey: a responder signs in to the overview, follows what needs them, and the list empties."""

from __future__ import annotations

import pytest

from tests.factories import IncidentFactory, WatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_overview_leads_to_the_work_and_updates_after_it(page, live_url, login, responder, dialogs):
    incident = IncidentFactory(
        watch=WatchFactory(name="Acme Air"), title="Acme Air: baggage chaos", severity=2
    )
    login(page, responder)
    assert page.url.rstrip("/") == live_url  # signing in lands on the overview
    unacknowledged = page.locator("#work-unacknowledged")
    assert "Acme Air: baggage chaos" in unacknowledged.inner_text()
    watch = page.locator(f"li.watch-state[data-watch='{incident.watch_id}']")
    assert "Incident open · SEV2 · Detected" in watch.inner_text()
    assert watch.locator("svg.sparkline").count() == 4

    unacknowledged.get_by_role("link", name="Acme Air: baggage chaos").click()
    page.wait_for_url(f"**/incidents/{incident.pk}/")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"**/incidents/{incident.pk}/")

    page.get_by_role("link", name="Overview").click()
    page.wait_for_url(live_url + "/")
    assert page.locator("#work-unacknowledged").count() == 0
    assert "Acknowledged" in page.locator(f"li.watch-state[data-watch='{incident.watch_id}']").inner_text()
    assert dialogs == []
