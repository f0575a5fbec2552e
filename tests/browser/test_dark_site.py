"""Journey in Chromium: a manager prepares a dark site, an incident opens, a responder drafts an
update, a manager approves it and publishes it on the dark site, and an anonymous reader sees it
live, reads the feed, subscribes (the emails arrive by the locmem backend) and unsubscribes."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from incidents.models import DarkSite, Draft, NotificationDelivery, PublicUpdate, Subscriber
from incidents.notifications.delivery import delivery_send
from incidents.publishing.services import darksite_publish
from incidents.response.services import draft_approve
from tests.factories import IncidentFactory, WatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_dark_site_is_prepared_switched_on_and_read_by_the_public(
    page, live_url, login, responder, manager, browser, dialogs
):
    watch = WatchFactory(name="Acme Air", languages=["en"])

    # Manager: prepare the site and its words before any crisis.
    manager_context = browser.new_context()
    manager_page = manager_context.new_page()
    login(manager_page, manager)
    manager_page.goto(f"{live_url}/incidents/darksites/")
    manager_page.fill(f"#id_slug_{watch.pk}", "acme-air")
    manager_page.get_by_role("button", name="Prepare a dark site").click()
    manager_page.wait_for_selector(".msg-success")
    manager_page.fill("#id_title", "Acme Air service status")
    manager_page.fill("#id_background", "What we know, as we learn it.")
    manager_page.fill("#id_faq-0-question", "Will I get a refund?")
    manager_page.fill("#id_faq-0-answer", "Yes, within 7 days.")
    manager_page.fill("#id_press_contact", "press@acme-air.example")
    manager_page.get_by_role("button", name="Save the EN words").click()
    manager_page.wait_for_selector(".msg-success")
    site = DarkSite.objects.get(watch=watch)

    # Dark: not found to an anonymous reader.
    reader = browser.new_context()
    reader_page = reader.new_page()
    assert reader_page.goto(f"{live_url}/status/acme-air/").status == 404

    # An incident opens; the responder writes an update and submits it.
    incident = IncidentFactory(watch=watch, title="Acme Air: volume spike (internal)")
    login(page, responder)
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    page.locator("details.draft-new summary").click()
    page.fill("#id_new_draft_title", "Delays at Warsaw")
    page.fill(
        "#id_new_draft_body", "We are aware of delays to flights from Warsaw. Next update by 14:00 UTC."
    )
    page.locator("details.draft-new").get_by_role("button", name="Save draft").click()
    page.wait_for_selector(".msg-success")
    draft = Draft.objects.get(incident=incident, title="Delays at Warsaw")
    page.locator(f"#draft-{draft.pk}").get_by_role("button", name="Submit for review").click()
    page.wait_for_selector(f"#draft-{draft.pk}.draft-in_review")

    # The manager approves, switches the site on for the incident and publishes the update there.
    manager_page.goto(f"{live_url}/incidents/{incident.pk}/")
    manager_page.locator(f"#draft-{draft.pk}").get_by_role("button", name="Approve").click()
    manager_page.wait_for_selector(f"#draft-{draft.pk}.draft-approved")
    manager_page.get_by_role("button", name="Switch the dark site on for this incident").click()
    manager_page.wait_for_selector(".msg-success")
    manager_page.locator(f"#darksite-publish-{draft.pk}").get_by_role(
        "button", name="Publish on the dark site"
    ).click()
    manager_page.wait_for_selector(".msg-success")
    assert "Published on the dark site" in manager_page.locator(".msg-success").inner_text()
    assert PublicUpdate.objects.filter(site=site, draft=draft).exists()
    manager_context.close()

    # Anonymous: the page is live with the update, the FAQ and the contact, and nothing internal.
    response = reader_page.goto(f"{live_url}/status/acme-air/")
    assert response.status == 200
    assert response.headers["cache-control"].startswith("public")
    text = reader_page.locator("body").inner_text()
    assert "Delays at Warsaw" in text and "We are aware of delays to flights from Warsaw" in text
    assert "Will I get a refund?" in text and "press@acme-air.example" in text
    for secret in ("volume spike", responder.username, manager.username, "@example.com"):
        assert secret not in text
    reader_page.get_by_role("link", name="Follow the updates (Atom feed)").click()
    feed = reader_page.content()
    assert "Delays at Warsaw" in feed

    # The reader subscribes; the confirmation email (locmem backend) arrives through the outbox.
    reader_page.goto(f"{live_url}/status/acme-air/")
    reader_page.fill("#subscribe-email", "reader@example.org")
    reader_page.get_by_role("button", name="Subscribe").click()
    assert "link to confirm" in reader_page.locator("main").inner_text()
    send_pending()  # what the worker (nudged after commit) or the beat sweeper does
    confirm_link = re.search(r"https?://\S+/subscribe/confirm/\S+/", mail.outbox[-1].body).group(0)
    reader_page.goto(live_url + urlsplit(confirm_link).path)
    reader_page.get_by_role("button", name="Confirm my subscription").click()
    assert "You are subscribed" in reader_page.locator("main").inner_text()

    # The next published update is emailed with a working unsubscribe link.
    follow_up = Draft.objects.create(
        incident=incident, body="Flights resume at 16:00.", author=responder, status="in_review"
    )
    draft_approve(draft=follow_up, by=manager)
    darksite_publish(draft=follow_up, by=manager)
    send_pending()
    update_email = mail.outbox[-1]
    assert update_email.to == ["reader@example.org"] and "Flights resume at 16:00." in update_email.body
    unsubscribe_link = update_email.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe_link in update_email.body
    reader_page.goto(live_url + urlsplit(unsubscribe_link).path)
    reader_page.get_by_role("button", name="Unsubscribe").click()
    assert "You are unsubscribed" in reader_page.locator("main").inner_text()
    assert Subscriber.objects.get(email="reader@example.org").state == "unsubscribed"
    reader.close()
    assert dialogs == []


def send_pending():
    for delivery_id in NotificationDelivery.objects.filter(status="pending").values_list("id", flat=True):
        delivery_send(delivery_id=delivery_id)
