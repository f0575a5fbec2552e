"""Live push in Chromium: a change by someone else reaches an open page within 2 seconds, without
reload; who else is on the incident shows; a page that loses its stream says so and polls."""

from __future__ import annotations

import time

import pytest

from incidents.models import Draft
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A short heartbeat: a stream whose page closed notices at its next write and ends.
FAST = {"poll": 0.2, "heartbeat": 0.5, "beat": 2.0, "lifetime": 20.0}


@pytest.fixture(autouse=True)
def _fast_stream(settings):
    settings.LIVE_STREAM_TIMES = FAST


def test_an_approval_reaches_the_authors_open_page_within_two_seconds(
    browser, page, live_url, login, responder, manager, dialogs
):
    incident = IncidentFactory(title="Acme Air: baggage chaos")
    draft = Draft.objects.create(
        incident=incident, kind="holding", title="Holding statement", body="We are on it.", status="in_review",
        author=responder,
    )  # fmt: skip
    login(page, responder)
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    page.locator("body[data-live='streaming']").wait_for()
    assert page.locator(f"#draft-{draft.pk}.draft-in_review").count() == 1

    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        manager_page = other.new_page()
        login(manager_page, manager)
        manager_page.goto(f"{live_url}/incidents/{incident.pk}/")
        # The responder sees who else is on the incident.
        page.locator("#presence", has_text=manager.username).wait_for(timeout=5_000)

        manager_page.locator(f"#draft-{draft.pk}").get_by_role("button", name="Approve").click()
        manager_page.wait_for_selector(f"#draft-{draft.pk}.draft-approved")
        approved_at = time.monotonic()
        page.wait_for_selector(f"#draft-{draft.pk}.draft-approved", timeout=2_000)
        print(f"approval reached the open page in {time.monotonic() - approved_at:.2f} s")
        assert page.locator("#incident-status").count() == 1  # the page was never reloaded as a whole
    finally:
        other.close()
    assert dialogs == []


def test_a_page_that_loses_its_stream_says_so_and_polls(page, live_url, login, responder, manager):
    incident = IncidentFactory(title="Acme Air: baggage chaos")
    login(page, responder)
    page.route("**/live/?*", lambda route: route.abort())
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    page.locator("#live-status").wait_for(state="visible")
    assert page.locator("body").get_attribute("data-live") == "polling"
    from incidents.lifecycle.services import incident_acknowledge

    incident_acknowledge(incident=incident, by=manager)
    page.locator("#incident-status", has_text="Acknowledged").wait_for(timeout=15_000)
