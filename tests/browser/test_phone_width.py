"""Journey in Chromium at a phone's width: the incident page never scrolls sideways."""

from __future__ import annotations

import pytest

from tests.factories import IncidentFactory, PlaybookFactory, ScenarioFactory, WatchFactory
from tests.incidents.response.helpers import ready_playbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE_WIDTH = 390


def test_the_incident_page_fits_a_phone(browser, live_url, login, responder):
    ready_playbook()
    # The picker lists every active playbook by scenario and name: long names widened it to 673 px.
    long_scenario = ScenarioFactory(type="product_defect", name="Product defect, recall and safety notice")
    PlaybookFactory(scenario=long_scenario, name="Product defect and recall response for every market")
    incident = IncidentFactory(watch=WatchFactory(name="Acme Air", languages=["en", "tr", "pl", "id", "ms"]))
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        login(page, responder)
        page.goto(f"{live_url}/incidents/{incident.pk}/")
        page.wait_for_selector("#id_activate_playbook")

        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    finally:
        context.close()
