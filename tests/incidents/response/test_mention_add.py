"""Adding a mention to an incident by hand (from the mention explorer): permission, refusals,
idempotence, the audit row and timeline event, and the view's safe way back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import Status, TimelineEvent
from incidents.response.services import ResponseError, mention_add
from monitoring.models import Mention
from tests.factories import IncidentFactory, MentionFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(watch=WatchFactory(name="Acme Air"))


@pytest.fixture
def mention(incident):
    # Posted before the crisis start: ingest never attached it.
    return MentionFactory(
        source=SourceFactory(watch=incident.watch),
        text="first complaint, two days early",
        author="@early_bird",
        published_at=timezone.now() - timedelta(days=2),
    )


def test_it_attaches_the_mention_with_an_audit_row_and_a_timeline_event(incident, mention, responder):
    added, created = mention_add(incident=incident, mention=mention, by=responder)

    assert created and added.incident_id == incident.pk
    assert Mention.objects.get(pk=mention.pk).incident_id == incident.pk
    event = TimelineEvent.objects.get(incident=incident, kind="mention-added")
    assert event.mention_id == mention.pk and event.actor == responder and "@early_bird" in event.text
    record = AuditRecord.objects.get(action="incident.mention_added")
    assert record.object_id == str(incident.pk)
    assert record.before == {"mention": mention.pk, "incident": None}
    assert record.after == {"mention": mention.pk, "incident": incident.pk}


def test_adding_it_twice_changes_nothing_the_second_time(incident, mention, responder):
    mention_add(incident=incident, mention=mention, by=responder)
    _again, created = mention_add(incident=incident, mention=Mention.objects.get(pk=mention.pk), by=responder)
    assert not created
    assert TimelineEvent.objects.filter(kind="mention-added").count() == 1
    assert AuditRecord.objects.filter(action="incident.mention_added").count() == 1


def test_it_refuses_a_viewer(incident, mention, viewer):
    with pytest.raises(PermissionDenied):
        mention_add(incident=incident, mention=mention, by=viewer)
    assert Mention.objects.get(pk=mention.pk).incident_id is None


def test_it_refuses_a_closed_incident(mention, responder):
    closed = IncidentFactory(watch=mention.watch, status=Status.CLOSED)
    with pytest.raises(ResponseError, match="closed"):
        mention_add(incident=closed, mention=mention, by=responder)


def test_it_refuses_another_watchs_mention(incident, responder):
    stranger = MentionFactory()
    with pytest.raises(ResponseError, match="another watch"):
        mention_add(incident=incident, mention=stranger, by=responder)
    assert Mention.objects.get(pk=stranger.pk).incident_id is None


def test_it_never_takes_a_mention_from_another_incident(incident, mention, responder):
    earlier = IncidentFactory(watch=incident.watch, status=Status.RESOLVED)
    Mention.objects.filter(pk=mention.pk).update(incident=earlier)
    with pytest.raises(ResponseError, match=f"incident #{earlier.pk}"):
        mention_add(incident=incident, mention=mention, by=responder)
    assert Mention.objects.get(pk=mention.pk).incident_id == earlier.pk


def test_the_view_goes_back_to_the_explorer(client_for, incident, mention, responder):
    back = reverse("monitoring:mentions") + f"?incident={incident.pk}#mention-{mention.pk}"
    response = client_for(responder).post(
        reverse("incidents:mention_add", args=[incident.pk]), {"mention": mention.pk, "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert Mention.objects.get(pk=mention.pk).incident_id == incident.pk


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "\\\\evil.example"]
)
def test_the_view_never_sends_anyone_to_another_site(client_for, incident, mention, responder, next_url):
    response = client_for(responder).post(
        reverse("incidents:mention_add", args=[incident.pk]), {"mention": mention.pk, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[incident.pk]) + f"#mention-{mention.pk}"


def test_the_view_refuses_a_viewer(client_for, incident, mention, viewer):
    response = client_for(viewer).post(
        reverse("incidents:mention_add", args=[incident.pk]), {"mention": mention.pk}
    )
    assert response.status_code == 403
    assert Mention.objects.get(pk=mention.pk).incident_id is None


def test_the_view_explains_a_refusal(client_for, incident, responder):
    stranger = MentionFactory()
    client = client_for(responder)
    response = client.post(
        reverse("incidents:mention_add", args=[incident.pk]), {"mention": stranger.pk}, follow=True
    )
    assert "belongs to another watch" in response.content.decode()


def test_the_view_answers_a_bad_mention_id_with_a_message(client_for, incident, responder):
    response = client_for(responder).post(
        reverse("incidents:mention_add", args=[incident.pk]), {"mention": "abc"}, follow=True
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_a_reply_from_the_explorer_goes_back_there(client_for, incident, mention, responder):
    Mention.objects.filter(pk=mention.pk).update(incident=incident)
    back = reverse("monitoring:mentions") + f"?q=complaint#mention-{mention.pk}"
    response = client_for(responder).post(
        reverse("incidents:reply_record", args=[incident.pk]),
        {"mention": mention.pk, "text": "Sorry, we are on it", "next": back},
    )
    assert response["Location"] == back
