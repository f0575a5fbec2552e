"""Journeys in Chromium: a responder triages a drill's incident; hostile mention text never runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.lifecycle.opening import open_or_attach
from incidents.models import Incident, Status, TimelineEvent
from monitoring.detection.services import detect_for_watch
from monitoring.intake.ingest import ingest_items
from monitoring.models import Rule, Watch
from monitoring.scoring.rescore import score_new_mentions
from monitoring.sources.base import Item
from tests.factories import IncidentFactory, MentionFactory, RuleFactory, SourceFactory, WatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COMPLAINTS = [
    "Acme Air lost my luggage again, terrible service",
    "Acme Air cancelled my flight and refuses a refund. Scam!",
    "Bagajım kayboldu, Acme Air rezalet",
    "Acme Air odwołał lot, skandal, chcę zwrot pieniędzy",
    "Penerbangan Acme Air ditunda lagi, pelayanan buruk sekali",
]


def drill_incident() -> Incident:
    """An incident made the real way: mentions ingested, scored, bucketed, detected and escalated."""
    watch = WatchFactory(name="Acme Air", include_terms=["acme air"])
    source = SourceFactory(watch=watch, kind="drill", name="Drill replay")
    RuleFactory(watch=watch, kind="volume_spike", name="Volume spike", min_count=10, window_minutes=15)
    now = timezone.now()
    # A watch that has run for two days: its volume rule is past its learning period.
    Watch.objects.filter(pk=watch.pk).update(created_at=now - timedelta(days=2))
    Rule.objects.filter(watch=watch).update(created_at=now - timedelta(days=2))
    items = [
        Item(
            external_id=f"drill-{n}",
            text=COMPLAINTS[n % len(COMPLAINTS)],
            author=f"@traveller{n % 7}",
            author_reach=100 * n,
            url=f"https://social.example/@traveller{n % 7}/{n}",
            published_at=now - timedelta(minutes=10) + timedelta(seconds=10 * n),
        )
        for n in range(40)
    ]
    ingest_items(source=source, items=items)
    while score_new_mentions():
        pass
    signals = detect_for_watch(watch_id=watch.pk, now=now)
    assert signals, "the drill burst should breach the volume-spike rule"
    for signal in signals:
        open_or_attach(signal_id=signal.pk)
    return Incident.objects.get(watch=watch)


def test_a_responder_acknowledges_the_drill_incident(page, live_url, login, responder, dialogs):
    incident = drill_incident()
    login(page, responder)

    page.goto(f"{live_url}/incidents/")
    row = page.locator(f"tr[data-incident='{incident.pk}']")
    assert row.is_visible()
    assert "Detected" in row.inner_text()
    row.locator("a.incident-title").click()

    page.wait_for_url(f"**/incidents/{incident.pk}/")
    assert page.locator("#incident-status").inner_text() == "Detected"
    assert page.locator("h3.phase-title", has_text="Pre-crisis").is_visible()
    page.get_by_role("button", name="Acknowledge").click()

    page.wait_for_url(f"**/incidents/{incident.pk}/")
    assert page.locator("#incident-status").inner_text() == "Acknowledged"
    assert page.locator(".msg-success").inner_text() == "Incident is now acknowledged."
    event = page.locator("li.kind-statusacknowledged")
    assert "Acknowledge: Detected → Acknowledged" in event.inner_text()
    assert responder.username in event.inner_text()
    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED and incident.acknowledged_by == responder
    # The success message fades by itself; the × closes it at once so it no longer covers the panel.
    assert page.locator(".msg-success").get_attribute("data-autohide") is not None
    page.get_by_role("button", name="Dismiss").click()
    page.locator(".msg-success").wait_for(state="hidden")
    assert dialogs == []


def test_a_new_incident_appears_without_reload(page, live_url, login, viewer):
    login(page, viewer)
    page.goto(f"{live_url}/incidents/")
    assert "No open incidents" in page.locator("#incident-rows").inner_text()
    incident = IncidentFactory(title="Fresh outage reports")
    # The fragment refreshes every 10 s; the page itself is never reloaded.
    page.locator(f"tr[data-incident='{incident.pk}']").wait_for(timeout=15_000)
    assert "Fresh outage reports" in page.locator("#incident-rows").inner_text()


SCRIPT = "<script>alert(1)</script>"
AUTHOR = '"><img src=x onerror=alert(1)>'


def test_hostile_mentions_show_as_text_and_never_run(page, live_url, login, responder, dialogs):
    incident = IncidentFactory(title=f"Spike {SCRIPT}")
    source = SourceFactory(watch=incident.watch)
    MentionFactory(source=source, incident=incident, text=SCRIPT, author=AUTHOR, url="javascript:alert(1)")
    TimelineEvent.objects.create(incident=incident, phase="during", kind="mention", text=f"Quoted: {SCRIPT}")
    login(page, responder)

    page.goto(f"{live_url}/incidents/")
    assert SCRIPT in page.locator(f"tr[data-incident='{incident.pk}'] a.incident-title").inner_text()

    page.goto(f"{live_url}/incidents/{incident.pk}/")
    mention = page.locator("li.mention").first
    assert mention.locator(".mention-text").inner_text() == SCRIPT
    assert AUTHOR in mention.inner_text()
    assert mention.locator("a").count() == 0  # a javascript: URL never becomes a link
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("main script").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
