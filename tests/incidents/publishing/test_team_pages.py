"""The team's dark-site pages: the list, preparing a site and its words, the logo, and the incident
page's panel that switches it on and off and publishes approved drafts."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import DarkSite, DarkSiteState, PublicUpdate
from incidents.publishing.services import darksite_publish

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def faq_post(**fields):
    return {
        "faq-TOTAL_FORMS": "2",
        "faq-INITIAL_FORMS": "0",
        "faq-MIN_NUM_FORMS": "0",
        "faq-MAX_NUM_FORMS": "30",
        **fields,
    }


def test_a_manager_prepares_a_site_and_its_words(client_for, manager, watch):
    client = client_for(manager)
    assert b"Prepare a dark site" in client.get("/incidents/darksites/").content
    response = client.post(f"/incidents/darksites/prepare/{watch.pk}/", {"slug": "acme-air"})
    site = DarkSite.objects.get(watch=watch)
    assert response["Location"] == f"/incidents/darksites/{site.pk}/"
    response = client.post(
        f"/incidents/darksites/{site.pk}/?lang=tr",
        faq_post(
            title="Acme Air hizmet durumu",
            **{
                "faq-0-question": "Ne oldu?",
                "faq-0-answer": "Rötar var.",
                "faq-1-question": "",
                "faq-1-answer": "",
            },
        ),
    )
    assert response.status_code == 302
    content = site.contents.get(language="tr")
    assert content.faq == [{"question": "Ne oldu?", "answer": "Rötar var."}]
    page = client.get(f"/incidents/darksites/{site.pk}/?lang=tr").content.decode()
    assert "Ne oldu?" in page


def test_a_bad_address_is_a_message_not_an_error(client_for, manager, watch):
    response = client_for(manager).post(
        f"/incidents/darksites/prepare/{watch.pk}/", {"slug": "Not OK!"}, follow=True
    )
    assert response.status_code == 200
    assert not DarkSite.objects.exists()
    assert b"lowercase letters" in response.content


def test_a_viewer_reads_but_cannot_change(client_for, viewer, site):
    client = client_for(viewer)
    page = client.get(f"/incidents/darksites/{site.pk}/")
    assert page.status_code == 200 and b"Only managers prepare dark sites" in page.content
    assert client.post(f"/incidents/darksites/{site.pk}/", faq_post(title="Hacked")).status_code == 403
    assert site.contents.get(language="en").title == "Acme Air service status"


def test_the_logo_is_checked_and_stored_inline(client_for, manager, site):
    client = client_for(manager)
    bad = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    client.post(f"/incidents/darksites/{site.pk}/logo/", {"logo": bad})
    site.refresh_from_db()
    assert site.logo == ""
    client.post(f"/incidents/darksites/{site.pk}/logo/", {"logo": SimpleUploadedFile("l.png", PNG)})
    site.refresh_from_db()
    assert site.logo.startswith("data:image/png;base64,")


def test_the_incident_panel_switches_on_publishes_and_switches_off(
    client_for, manager, responder, site, incident, approved
):
    manager_client = client_for(manager)
    page = manager_client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Switch the dark site on for this incident" in page
    manager_client.post(f"/incidents/{incident.pk}/darksite/live/")
    site.refresh_from_db()
    assert site.state == DarkSiteState.LIVE
    draft = approved("We are looking into delays.")
    page = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    assert f"darksite-publish-{draft.pk}" in page
    assert "Switch the dark site off" not in page  # a responder publishes but does not switch
    response = client_for(responder).post(
        f"/incidents/{incident.pk}/drafts/{draft.pk}/darksite/",
        {"next_update_due": "2999-01-01T10:00"},
        follow=True,
    )
    assert b"Promise the next update within 14 days" in response.content
    client_for(responder).post(f"/incidents/{incident.pk}/drafts/{draft.pk}/darksite/", {})
    assert PublicUpdate.objects.filter(draft=draft).exists()
    manager_client.post(f"/incidents/{incident.pk}/darksite/off/")
    site.refresh_from_db()
    assert site.state == DarkSiteState.RESOLVED


def test_a_responder_cannot_switch_a_site_on(client_for, responder, site, incident):
    assert client_for(responder).post(f"/incidents/{incident.pk}/darksite/live/").status_code == 403


def test_the_panel_costs_the_same_queries_with_more_drafts_and_updates(
    client_for, manager, live, incident, approved
):
    client = client_for(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/incidents/{incident.pk}/").status_code == 200
        return len(captured)

    darksite_publish(draft=approved("One."), by=manager)
    approved("Waiting one.")
    few = queries()
    for n in range(3):
        darksite_publish(draft=approved(f"More {n}."), by=manager)
        approved(f"Waiting {n}.")
    assert queries() == few
