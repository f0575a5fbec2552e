"""Evidence: immutable snapshots of mentions with the SHA-256 of their canonical content."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from crisisdesk.models import AuditRecord
from incidents.models import Evidence, TimelineEvent
from incidents.response.services import evidence_capture
from tests.factories import IncidentFactory, MentionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory()


@pytest.fixture
def mention(incident):
    return MentionFactory(
        source__watch=incident.watch,
        incident=incident,
        text="Acme Air sızdırdı! Veriler çalındı 😡",
        author="@şikayetçi",
        url="https://social.example/@s/1",
        published_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    )


def test_it_captures_a_snapshot_with_the_sha256_of_its_content(incident, mention, responder):
    evidence, created = evidence_capture(
        incident=incident, mention=mention, by=responder, note="Claims a leak"
    )
    canonical = json.dumps(
        {
            "author": "@şikayetçi",
            "published_at": "2026-11-20T09:30:00+00:00",
            "text": "Acme Air sızdırdı! Veriler çalındı 😡",
            "url": "https://social.example/@s/1",
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert created and evidence.sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert (evidence.text, evidence.author, evidence.url) == (mention.text, mention.author, mention.url)
    assert evidence.captured_by == responder and evidence.note == "Claims a leak"
    event = TimelineEvent.objects.get(incident=incident, kind="evidence")
    assert evidence.sha256[:12] in event.text and event.mention == mention
    assert AuditRecord.objects.get(action="evidence.captured").after["sha256"] == evidence.sha256


def test_capturing_the_same_content_twice_is_idempotent(incident, mention, responder, responder2):
    first, created = evidence_capture(incident=incident, mention=mention, by=responder)
    again, created_again = evidence_capture(incident=incident, mention=mention, by=responder2)
    assert created and not created_again and again.pk == first.pk
    assert Evidence.objects.count() == 1 and TimelineEvent.objects.filter(kind="evidence").count() == 1


def test_the_database_refuses_a_duplicate_hash(incident, mention, responder):
    evidence, _ = evidence_capture(incident=incident, mention=mention, by=responder)
    with pytest.raises(IntegrityError), transaction.atomic():
        Evidence.objects.create(incident=incident, text="x", sha256=evidence.sha256)


def test_changed_content_is_a_new_snapshot_and_old_ones_stay(incident, mention, responder):
    first, _ = evidence_capture(incident=incident, mention=mention, by=responder)
    mention.text = "Edited later at the source"  # not saved: a stored mention's text never changes
    second, created = evidence_capture(incident=incident, mention=mention, by=responder)
    assert created and second.sha256 != first.sha256
    first.refresh_from_db()
    assert first.text == "Acme Air sızdırdı! Veriler çalındı 😡"


def test_evidence_is_immutable(incident, mention, responder):
    evidence, _ = evidence_capture(incident=incident, mention=mention, by=responder)
    evidence.text = "tampered"
    with pytest.raises(ValueError, match="immutable"):
        evidence.save()


def test_it_refuses_a_viewer_and_a_foreign_mention(incident, mention, viewer, responder, client_for):
    with pytest.raises(PermissionDenied):
        evidence_capture(incident=incident, mention=mention, by=viewer)
    assert (
        client_for(viewer).post(f"/incidents/{incident.pk}/evidence/", {"mention": mention.pk}).status_code
        == 403
    )
    foreign = MentionFactory(incident=IncidentFactory())
    with pytest.raises(ValidationError):
        evidence_capture(incident=incident, mention=foreign, by=responder)
    assert not Evidence.objects.exists()


def test_capture_through_the_page_shows_the_hash(incident, mention, responder, client_for):
    mention.sentiment_label = "negative"
    mention.save()
    client = client_for(responder)
    page = client.post(f"/incidents/{incident.pk}/evidence/", {"mention": mention.pk}, follow=True)
    evidence = Evidence.objects.get()
    html = page.content.decode()
    assert f"Evidence captured: SHA-256 {evidence.sha256}" in html
    assert f'<code class="sha256">{evidence.sha256}</code>' in html
    again = client.post(f"/incidents/{incident.pk}/evidence/", {"mention": mention.pk}, follow=True)
    assert "Already captured" in again.content.decode() and Evidence.objects.count() == 1
