"""Journey in Chromium: mentions pushed by the signed webhook while an incident is open reach its
response queue (the brand's own post goes to the timeline instead), and one is answered from there."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from incidents.models import Reply, TimelineEvent
from monitoring.models import Mention
from monitoring.sources.webhook import SIGNATURE_HEADER, sign
from tests.factories import IncidentFactory, SourceFactory, WatchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def push(live_url: str, source, mentions: list[dict]) -> httpx.Response:
    raw = json.dumps({"mentions": mentions}).encode()
    return httpx.post(
        live_url + reverse("crisisdesk:source-webhook", args=[source.pk]),
        content=raw,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(source.secret, raw)},
    )


def test_a_pushed_mention_reaches_the_queue_and_is_answered(page, live_url, login, responder, dialogs):
    cache.clear()
    watch = WatchFactory(name="Acme Air", languages=["en", "tr"], own_accounts={"any": ["@AcmeAir"]})
    source = SourceFactory(watch=watch, kind="webhook", name="Brandwatch push")
    now = timezone.now()
    incident = IncidentFactory(
        watch=watch, detected_at=now - timedelta(minutes=30), owns_mentions_from=now - timedelta(minutes=45)
    )
    published = (now - timedelta(minutes=2)).isoformat()
    response = push(
        live_url,
        source,
        [
            {
                "external_id": "bw-1",
                "text": "Acme Air lost my bag and nobody answers, terrible service, scam 😡",
                "published_at": published,
                "author": "@angry_flyer",
                "author_reach": 5200,
                "language": "en",
                "url": "https://social.example/@angry_flyer/1",
            },
            {
                "external_id": "bw-2",
                "text": "Acme Air rezalet, uçuşum iptal edildi, paramı iade edin",
                "published_at": published,
                "author": "@yolcu",
                "author_reach": 80,
                "language": "tr",
            },
            {
                "external_id": "bw-3",
                "text": "[Acme Air] Yaşanan BT arızası için özür dileriz.",
                "published_at": published,
                "author": "@AcmeAir",
                "author_reach": 1_250_000,
                "language": "tr",
            },
        ],
    )
    assert response.status_code == 202, response.text
    angry = Mention.objects.get(external_id="bw-1")
    apology = Mention.objects.get(external_id="bw-3")
    assert angry.incident_id == incident.pk and apology.is_own

    login(page, responder)
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    queue = page.locator("#response-queue")
    row = queue.locator(f"#mention-{angry.pk}")
    assert "lost my bag" in row.inner_text()
    assert queue.locator(f"#mention-{apology.pk}").count() == 0  # ours: on the timeline, not in the queue
    assert "Our public statement" in page.locator(".timeline").inner_text()

    # Narrow to the unanswered English ones, then answer from the queue.
    queue.locator("select[name=language]").select_option("en")
    queue.locator("select[name=answered]").select_option("unanswered")
    queue.get_by_role("button", name="Filter").click()
    page.wait_for_url("**language=en**")
    row = page.locator(f"#mention-{angry.pk}")
    assert page.locator("#response-queue .queue-item").count() == 1
    row.locator("summary", has_text="Record a reply").click()
    row.locator("textarea[name=text]").fill(
        "We're sorry: DM us your booking reference and we'll trace the bag."
    )
    row.get_by_role("button", name="Save reply").click()
    page.wait_for_selector(f"#mention-{angry.pk}.is-replied")

    assert Reply.objects.get(mention=angry).replied_by == responder
    assert TimelineEvent.objects.filter(incident=incident, kind="own_statement", mention=apology).exists()
    assert dialogs == []
