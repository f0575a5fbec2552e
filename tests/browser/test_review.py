"""Journey in Chromium: a responder resolves an incident, writes the review and exports it; a manager closes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.lifecycle.services import incident_acknowledge
from incidents.models import Incident, Review, Status
from tests.browser.conftest import TIMEOUT_MS
from tests.factories import IncidentFactory, PlaybookFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SUMMARY = "Bagaj sistemi çöktü; <script>alert(1)</script> posts peaked at noon."


def test_a_responder_reviews_and_a_manager_closes(
    page, live_url, login, responder, manager, browser, dialogs, tmp_path
):
    incident = IncidentFactory(
        title="Acme Air: lost luggage",
        detected_at=timezone.now() - timedelta(hours=2),
        first_signal_at=timezone.now() - timedelta(hours=2, minutes=20),
    )
    incident_acknowledge(incident=incident, by=responder)
    playbook = PlaybookFactory(name="Service failure response")
    detail = f"{live_url}/incidents/{incident.pk}/"

    # The responder resolves the incident…
    login(page, responder)
    page.goto(detail)
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_url(detail)
    assert page.locator("#incident-status").inner_text() == "Resolved"
    assert "No review yet" in page.locator("#review").inner_text()

    # …writes the review…
    page.locator("#review").get_by_role("link", name="Write the review").click()
    page.fill("#id_summary", SUMMARY)
    page.fill("#id_went_well", "Holding statement in 20 minutes.")
    page.fill("#id_lessons", "Name a reply owner per language.")
    page.get_by_role("button", name="Save the review").click()
    page.wait_for_url(f"**/incidents/{incident.pk}/review/")
    assert page.locator("#review-summary").inner_text() == SUMMARY
    assert page.locator("tr[data-kpi=time_to_detect] .kpi-value").inner_text() == "20 min"
    assert page.locator("tr[data-kpi=time_to_first_response] .kpi-value").inner_text() == "—"

    page.fill("#id_text", "Add a Polish holding statement")
    page.select_option("#id_playbook", str(playbook.pk))
    page.get_by_role("button", name="Add action item").click()
    page.wait_for_url(f"**/incidents/{incident.pk}/review/")
    assert "Add a Polish holding statement" in page.locator(".action-items").inner_text()

    # …and exports it.
    with page.expect_download() as info:
        page.locator("#export-markdown").click()
    download = info.value
    assert download.suggested_filename == f"incident-{incident.pk}-review.md"
    path = tmp_path / "review.md"
    download.save_as(path)
    markdown = path.read_text(encoding="utf-8")
    assert markdown.startswith(f"# Post-crisis review: #{incident.pk} Acme Air: lost luggage")
    assert "Bagaj sistemi çöktü; \\<script\\>alert(1)\\</script\\>" in markdown
    assert "## Timeline" in markdown and "Post-crisis review written by rafal-responder" in markdown
    page.get_by_role("link", name="Printable page").click()
    page.wait_for_url(f"**/incidents/{incident.pk}/review/print/")
    assert "Add a Polish holding statement" in page.locator("body").inner_text()
    assert dialogs == []

    # A manager closes it (confirming the prompt).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    manager_page = context.new_page()
    prompts: list[str] = []

    def accept(dialog):
        prompts.append(dialog.message)
        dialog.accept()

    manager_page.on("dialog", accept)
    try:
        login(manager_page, manager)
        manager_page.goto(detail)
        assert SUMMARY in manager_page.locator("#review").inner_text()
        manager_page.get_by_role("button", name="Close").click()
        manager_page.wait_for_url(detail)
        assert manager_page.locator("#incident-status").inner_text() == "Closed"
    finally:
        context.close()

    assert prompts == ["Close this incident for good?"]
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.status == Status.CLOSED and incident.closed_by == manager
    assert Review.objects.get(incident=incident).author == responder
