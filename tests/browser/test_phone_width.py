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


def _every_page(admin) -> dict[str, str]:
    """One URL for each page a member opens, with realistic long names and texts in it."""
    from django.urls import reverse

    from incidents.lifecycle.services import incident_acknowledge, incident_resolve
    from tests.factories import MentionFactory, MessageTemplateFactory, RuleFactory, SourceFactory

    playbook = ready_playbook()
    template = MessageTemplateFactory(
        playbook=playbook, title="Holding statement for the Istanbul–Warsaw outage"
    )
    watch = WatchFactory(
        name="Acme Air Türkiye, Polska, Malaysia and Indonesia", languages=["en", "tr", "pl"]
    )
    source = SourceFactory(watch=watch, kind="webhook", name="Brandwatch push for every market we fly to")
    rule = RuleFactory(watch=watch, name="Negative share on the Istanbul–Warsaw routes")
    resolved = IncidentFactory(watch=watch, title="An earlier incident that is resolved now")
    incident_acknowledge(incident=resolved, by=admin)
    incident_resolve(incident=resolved, by=admin)
    incident = IncidentFactory(
        watch=watch, title="Acme Air: volume spike about cancelled Istanbul–Warsaw flights and lost baggage"
    )
    MentionFactory(
        source=source,
        incident=incident,
        sentiment_label="negative",
        author="a-very-long-handle-without-any-spaces-at-all-1234567890",
        text="https://example.com/" + "x" * 120 + " Uçuşum iptal edildi, bagajım kayıp!",
    )
    return {
        "overview": reverse("home"),
        "incident list": reverse("incidents:list"),
        "incident list, all": reverse("incidents:list") + "?status=all",
        "incident": reverse("incidents:detail", args=[incident.pk]),
        "review": reverse("incidents:review", args=[resolved.pk]),
        "watches": reverse("monitoring:watches"),
        "watch": reverse("monitoring:watch_detail", args=[watch.pk]),
        "watch edit": reverse("monitoring:watch_edit", args=[watch.pk]),
        "rules": reverse("monitoring:rules", args=[watch.pk]),
        "rule": reverse("monitoring:rule_edit", args=[rule.pk]),
        "backtest": reverse("monitoring:rule_backtest", args=[rule.pk]),
        "sources": reverse("monitoring:sources"),
        "source": reverse("monitoring:source_setup", args=[source.pk]),
        "import": reverse("monitoring:import_upload"),
        "playbooks": reverse("playbooks:list"),
        "playbook": reverse("playbooks:detail", args=[playbook.pk]),
        "template": reverse("playbooks:template_detail", args=[template.pk]),
        "approvals": reverse("playbooks:approvals"),
        "team": reverse("team"),
        "audit": reverse("audit"),
        "notification channels": reverse("incidents:notification_channels"),
    }


# The innermost elements that reach past the viewport's right edge, to say what to fix.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > width + 1);
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/ +/).join(".") : "");
  return wide.filter(el => ![...el.children].some(child => wide.includes(child))).slice(0, 5).map(name);
}"""


def test_every_page_fits_a_phone(browser, live_url, login, admin_member):
    pages = _every_page(admin_member)
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 844}, locale="en-US")
    page = context.new_page()
    too_wide = {}
    try:
        login(page, admin_member)
        for name, path in pages.items():
            response = page.goto(live_url + path)
            assert response is not None and response.status == 200, f"{name}: {response and response.status}"
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE_WIDTH:
                too_wide[name] = (width, page.evaluate(_OVERFLOWING))
    finally:
        context.close()
    assert too_wide == {}
