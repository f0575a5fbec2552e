"""The incident API: reads for viewers, acknowledge/resolve/transition through the same services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from incidents.lifecycle.services import incident_acknowledge, incident_resolve
from incidents.models import Incident, Status, TimelineEvent
from tests.factories import IncidentFactory, MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name, *args):
    return reverse(f"crisisdesk:{name}", args=args)


def test_it_lists_open_incidents_with_counts(viewer):
    incident = IncidentFactory(title="Baggage chaos", severity=2)
    MentionFactory(source=SourceFactory(watch=incident.watch), incident=incident)
    response = api_for(viewer).get(url("incident-list"))
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["title"] == "Baggage chaos" and row["severity"] == 2 and row["status"] == "detected"
    assert row["mention_count"] == 1 and row["signal_count"] == 0
    assert row["watch"] == incident.watch.name


def test_a_deep_page_counts_its_own_rows_in_the_same_number_of_queries(viewer):
    counted = IncidentFactory(status=Status.CLOSED)
    source = SourceFactory(watch=counted.watch)
    MentionFactory(source=source, incident=counted)
    MentionFactory(source=source, incident=counted, is_own=True)  # our statement: not chatter
    IncidentFactory.create_batch(120, status=Status.CLOSED)
    client = api_for(viewer)
    client.get(url("incident-list"))  # loads the member's permissions once
    with CaptureQueriesContext(connection) as first:
        assert client.get(url("incident-list"), {"status": "all"}).status_code == 200
    with CaptureQueriesContext(connection) as deep:
        response = client.get(url("incident-list"), {"status": "all", "page": 3})
    assert response.status_code == 200
    assert len(deep.captured_queries) == len(first.captured_queries)
    # The page's COUNT, its rows and one grouped count each of signals and mentions: no subquery per row.
    assert not any("(SELECT COUNT(" in q["sql"].upper() for q in deep.captured_queries)
    rows = response.json()["results"]
    assert rows[-1]["id"] == counted.pk and rows[-1]["mention_count"] == 1 and rows[-1]["signal_count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"severity": "high"}, "severity"),
        ({"watch": "acme"}, "watch"),
        ({"severity": "7"}, "severity"),  # no SEV7: documented as 1 to 4
        ({"severity": ""}, "severity"),  # given but empty is not "any"
        ({"watch": "0"}, "watch"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(viewer, params, field):
    response = api_for(viewer).get(url("incident-list"), params)
    assert response.status_code == 400
    assert field in response.json()


def test_detail_includes_the_timeline(viewer, responder):
    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)
    data = api_for(viewer).get(url("incident-detail", incident.pk)).json()
    assert data["acknowledged_by"] == responder.username
    assert [e["kind"] for e in data["timeline"]] == ["status:acknowledged"]


def test_anonymous_is_refused():
    incident = IncidentFactory()
    client = APIClient()
    assert client.get(url("incident-list")).status_code in (401, 403)
    assert client.post(url("incident-acknowledge", incident.pk)).status_code in (401, 403)


def test_a_viewer_cannot_acknowledge(viewer):
    incident = IncidentFactory()
    assert api_for(viewer).post(url("incident-acknowledge", incident.pk)).status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == Status.DETECTED


def test_a_responder_acknowledges_then_resolves(responder):
    incident = IncidentFactory()
    client = api_for(responder)
    response = client.post(url("incident-acknowledge", incident.pk))
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    response = client.post(url("incident-resolve", incident.pk), {"note": "Fix deployed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert "Fix deployed" in TimelineEvent.objects.get(incident=incident, kind="status:resolved").text


def test_a_refused_move_is_a_409_with_the_reason(responder):
    incident = IncidentFactory()
    client = api_for(responder)
    client.post(url("incident-acknowledge", incident.pk))
    response = client.post(url("incident-acknowledge", incident.pk))
    assert response.status_code == 409
    assert "already acknowledged" in response.json()["detail"]
    response = client.post(url("incident-transition", incident.pk), {"to_status": "closed"}, format="json")
    assert response.status_code == 403  # responders never close


def test_transition_validates_its_payload(responder):
    incident = IncidentFactory()
    client = api_for(responder)
    response = client.post(url("incident-transition", incident.pk), {"to_status": "melted"}, format="json")
    assert response.status_code == 400 and "to_status" in response.json()
    response = client.post(url("incident-transition", incident.pk), {}, format="json")
    assert response.status_code == 400 and "to_status" in response.json()
    response = client.post(
        url("incident-transition", incident.pk), "not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_a_manager_closes_through_the_api(responder, manager):
    from incidents.models import Review

    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)
    incident_resolve(incident=incident, by=responder)
    Review.objects.create(incident=incident, summary="Reviewed")
    response = api_for(manager).post(
        url("incident-transition", incident.pk), {"to_status": "closed"}, format="json"
    )
    assert response.status_code == 200 and response.json()["closed_by"] == manager.username


def test_an_unknown_incident_is_404(responder):
    assert api_for(responder).post(url("incident-acknowledge", 999999)).status_code == 404


def test_an_out_of_range_watch_filter_is_a_400_not_a_500(client_for, viewer):
    response = client_for(viewer).get("/api/incidents/", {"watch": "99999999999999999999999"})

    assert response.status_code == 400
    assert "watch" in response.json()
