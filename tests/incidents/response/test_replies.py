"""The response queue: negative mentions with a first-response clock, replies with link or text, and
no way to delete or hide a mention (transparency is the policy)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import get_resolver
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import Incident, Reply, TimelineEvent
from incidents.response.selectors import QUEUE_PAGE_SIZE, response_queue_page
from incidents.response.services import ResponseError, incident_set_first_response, reply_record
from monitoring.models import Mention
from tests.factories import IncidentFactory, MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(detected_at=timezone.now() - timedelta(hours=2))


def negative(incident, *, minutes_ago=10, risk=0.5, **kwargs):
    source = kwargs.pop("source", None) or SourceFactory(watch=incident.watch)
    return MentionFactory(
        source=source,
        incident=incident,
        sentiment_label="negative",
        risk=risk,
        published_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def test_a_reply_with_a_link_is_recorded(incident, responder):
    mention = negative(incident, author="@angry")
    reply = reply_record(incident=incident, mention=mention, by=responder, url="https://x.example/acme/2")
    assert (reply.mention, reply.replied_by, reply.url) == (mention, responder, "https://x.example/acme/2")
    event = TimelineEvent.objects.get(incident=incident, kind="reply")
    assert event.text == "Replied to @angry" and event.mention == mention and event.links == [reply.url]
    assert AuditRecord.objects.filter(action="reply.recorded", object_id=str(reply.pk)).exists()


def test_a_reply_needs_a_link_or_text_and_only_http_links(incident, responder):
    mention = negative(incident)
    with pytest.raises(ValidationError) as exc:
        reply_record(incident=incident, mention=mention, by=responder)
    assert "text" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        reply_record(incident=incident, mention=mention, by=responder, url="javascript:alert(1)")
    assert "url" in exc.value.message_dict
    reply_record(incident=incident, mention=mention, by=responder, text="Przepraszamy, sprawdzamy to.")
    assert Reply.objects.get().text == "Przepraszamy, sprawdzamy to."


def test_a_mention_of_another_incident_is_refused(incident, responder, client_for):
    stranger = negative(IncidentFactory())
    with pytest.raises(ValidationError):
        reply_record(incident=incident, mention=stranger, by=responder, text="hi")
    page = client_for(responder).post(
        f"/incidents/{incident.pk}/replies/", {"mention": stranger.pk, "text": "hi"}, follow=True
    )
    assert "does not belong to this incident" in page.content.decode()
    assert not Reply.objects.exists()


def test_it_refuses_a_viewer(incident, viewer, client_for):
    mention = negative(incident)
    with pytest.raises(PermissionDenied):
        reply_record(incident=incident, mention=mention, by=viewer, text="hi")
    assert (
        client_for(viewer)
        .post(f"/incidents/{incident.pk}/replies/", {"mention": mention.pk, "text": "hi"})
        .status_code
        == 403
    )


def test_the_queue_orders_by_risk_or_newest_and_shows_only_negatives(incident):
    low = negative(incident, risk=0.2, minutes_ago=1)
    high = negative(incident, risk=0.9, minutes_ago=30)
    MentionFactory(source=low.source, incident=incident, sentiment_label="positive", risk=0.1)
    negative(IncidentFactory(), risk=1.0)
    _, rows = response_queue_page(incident)
    assert [r.mention for r in rows] == [high, low]
    _, rows = response_queue_page(incident, sort="newest")
    assert [r.mention for r in rows] == [low, high]


def test_the_clock_starts_at_the_later_of_publication_and_detection(incident):
    incident.first_response_minutes = 60
    old = negative(incident, minutes_ago=200)  # before the incident was declared: clock starts at detection
    late = negative(incident, minutes_ago=70)
    fresh = negative(incident, minutes_ago=5)
    replied = negative(incident, minutes_ago=90)
    Reply.objects.create(incident=incident, mention=replied, text="answered")
    rows = {r.mention: r for r in response_queue_page(incident)[1]}
    assert rows[old].due_at == incident.detected_at + timedelta(minutes=60) and rows[old].overdue
    assert rows[late].overdue and not rows[fresh].overdue
    assert not rows[replied].overdue and [r.text for r in rows[replied].replies] == ["answered"]


def test_the_page_shows_the_time_left_on_the_clock(responder, client_for):
    incident = IncidentFactory(first_response_minutes=60, detected_at=timezone.now() - timedelta(hours=2))
    negative(incident, minutes_ago=20)
    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    assert "(39\xa0minutes left)" in html or "(40\xa0minutes left)" in html


def test_the_queue_is_paginated_and_the_page_highlights_overdue(incident, responder, client_for):
    source = SourceFactory(watch=incident.watch)
    for n in range(QUEUE_PAGE_SIZE + 3):
        negative(incident, source=source, minutes_ago=90 + n, risk=0.5)
    client = client_for(responder)
    first = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert first.count('class="mention queue-item is-overdue"') == QUEUE_PAGE_SIZE
    assert "Page 1 of 2" in first
    second = client.get(f"/incidents/{incident.pk}/?queue=2&queue_sort=newest").content.decode()
    assert second.count('class="mention queue-item is-overdue"') == 3 and "Page 2 of 2" in second


def test_the_incident_page_query_count_stays_flat(
    incident, responder, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.response.services import evidence_capture, playbook_activate
    from tests.incidents.response.helpers import ready_playbook

    playbook_activate(incident=incident, playbook=ready_playbook(), by=responder)
    source = SourceFactory(watch=incident.watch)
    client = client_for(responder)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/incidents/{incident.pk}/").status_code == 200
        return len(queries)

    # Enough to suggest a holding statement from the start (that panel costs its own queries).
    mentions = [negative(incident, source=source, minutes_ago=n) for n in range(25)]
    few = page_queries()
    mentions += [negative(incident, source=source, minutes_ago=n) for n in range(25)]
    for mention in mentions[:12]:
        Reply.objects.create(incident=incident, mention=mention, text="answered", replied_by=responder)
        evidence_capture(incident=incident, mention=mention, by=responder)
    assert page_queries() == few
    # The page's constant cost grew with the crisis room and the dark-site panel (see test_incident_pages).
    with django_assert_max_num_queries(41):
        client.get(f"/incidents/{incident.pk}/")


def test_reply_through_the_page(incident, responder, client_for):
    mention = negative(incident)
    response = client_for(responder).post(
        f"/incidents/{incident.pk}/replies/", {"mention": mention.pk, "url": "https://x.example/r/1"}
    )
    assert response.status_code == 302 and response.url.endswith(f"#mention-{mention.pk}")
    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    assert 'class="mention queue-item is-replied"' in html and 'href="https://x.example/r/1"' in html


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.name or ""


def test_no_route_deletes_or_hides_mentions_replies_or_evidence():
    routes = [
        (r, n) for r, n in _routes(get_resolver().url_patterns) if not r.startswith("django-admin/")
    ]  # admin: see below
    touching = [
        (route, name)
        for route, name in routes
        if route.startswith("incidents/") or any(w in route for w in ("mention", "repl", "evidence"))
    ]
    assert any("replies" in route for route, _ in touching)  # the walk sees this module's routes
    for route, name in touching:
        assert not any(word in f"{route} {name}".lower() for word in ("delete", "hide", "remove")), route


def test_mentions_cannot_be_deleted_through_the_ui_or_the_api(
    incident, responder, manager, admin_member, client_for
):
    mention = negative(incident)
    Reply.objects.create(incident=incident, mention=mention, text="answered")
    for user in (responder, manager, admin_member):
        client = client_for(user)
        for url in (
            f"/incidents/{incident.pk}/replies/",
            f"/incidents/{incident.pk}/evidence/",
            f"/incidents/{incident.pk}/",
            f"/api/mentions/{mention.pk}/",
        ):
            assert client.delete(url).status_code in (403, 404, 405)
            client.post(url, {"mention": mention.pk, "action": "delete", "_method": "DELETE"})
        # Django admin refuses deleting mentions too (MentionAdmin.has_delete_permission).
        assert client.post(
            f"/django-admin/monitoring/mention/{mention.pk}/delete/", {"post": "yes"}
        ).status_code in (302, 403)
    assert Mention.objects.filter(pk=mention.pk, incident=incident).exists()
    assert Reply.objects.filter(mention=mention).count() == 1


def test_a_manager_sets_the_first_response_target(incident, manager, responder, client_for):
    assert IncidentFactory().first_response_minutes == 60  # settings.FIRST_RESPONSE_MINUTES
    incident_set_first_response(incident=incident, minutes=15, by=manager)
    assert Incident.objects.get(pk=incident.pk).first_response_minutes == 15
    assert "15 minutes (was 60)" in TimelineEvent.objects.get(incident=incident, kind="first-response").text
    with pytest.raises(ResponseError, match="already 15"):
        incident_set_first_response(incident=incident, minutes=15, by=manager)
    with pytest.raises(PermissionDenied):
        incident_set_first_response(incident=incident, minutes=30, by=responder)
    assert (
        client_for(responder).post(f"/incidents/{incident.pk}/first-response/", {"minutes": 30}).status_code
        == 403
    )
    page = client_for(manager).post(f"/incidents/{incident.pk}/first-response/", {"minutes": 0}, follow=True)
    assert "minutes:" in page.content.decode().lower()


def test_the_default_target_comes_from_settings(settings):
    settings.FIRST_RESPONSE_MINUTES = 25
    assert IncidentFactory().first_response_minutes == 25


def test_hostile_mention_text_is_shown_as_text(incident, responder, client_for):
    negative(incident, text="<img src=x onerror=alert(1)> Acme oszuści", url="javascript:alert(1)")
    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt; Acme oszuści" in html
    assert 'href="javascript:' not in html
