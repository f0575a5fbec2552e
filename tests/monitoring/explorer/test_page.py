"""The mention explorer page: filters, keyset pages, row actions by role, escaping, bad input, query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from incidents.models import Evidence, Reply
from tests.factories import IncidentFactory, MentionFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db
URL = reverse("monitoring:mentions")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rows_come_newest_first_with_a_next_page_link(client_for, viewer, monkeypatch):
    monkeypatch.setattr("monitoring.explorer.selectors.PAGE_SIZE", 2)
    at = timezone.now()
    made = [MentionFactory(published_at=at - timedelta(minutes=n), text=f"post number {n}") for n in range(3)]
    client = client_for(viewer)

    first = client.get(URL)
    assert [row.mention.pk for row in first.context["page"].rows] == [made[0].pk, made[1].pk]
    assert f"after={made[1].pk}" in first.content.decode()

    second = client.get(URL, {"after": made[1].pk})
    assert [row.mention.pk for row in second.context["page"].rows] == [made[2].pk]
    assert second.context["page"].next_after is None


def test_the_next_page_link_keeps_the_filters(client_for, viewer, monkeypatch):
    monkeypatch.setattr("monitoring.explorer.selectors.PAGE_SIZE", 1)
    watch = WatchFactory(name="Acme Air")
    source = SourceFactory(watch=watch)
    first, second = (MentionFactory(source=source, text="bag lost") for _ in range(2))
    html = client_for(viewer).get(URL, {"q": "bag", "watch": watch.pk}).content.decode()
    newest = max(first.pk, second.pk)
    assert f"?q=bag&amp;watch={watch.pk}&amp;after={newest}" in html


def test_filters_narrow_the_rows(client_for, viewer):
    watch = WatchFactory(name="Acme Air")
    kept = MentionFactory(source=SourceFactory(watch=watch), text="lost luggage", sentiment_label="negative")
    MentionFactory(text="lost luggage", sentiment_label="positive")
    response = client_for(viewer).get(URL, {"q": "luggage", "sentiment": "negative"})
    assert [row.mention.pk for row in response.context["page"].rows] == [kept.pk]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 10_000}, "at most 200 characters"),
        ({"min_risk": "high"}, "Risk at least"),
        ({"min_risk": "2"}, "Risk at least"),
        ({"min_reach": "-1"}, "Reach at least"),
        ({"since": "yesterday"}, "Published from"),
        ({"since": "2026-12-02T10:00", "until": "2026-12-01T10:00"}, "Choose a time after"),
        ({"watch": "acme"}, "Watch"),
        ({"incident": str(2**64)}, "Incident"),
        ({"language": "<script>"}, "Language"),
        ({"answered": "maybe"}, "Answered"),
        ({"after": "'; DROP TABLE"}, "Enter a whole number"),
    ],
)
def test_a_bad_filter_is_a_400_with_a_message(client_for, viewer, params, message):
    response = client_for(viewer).get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters cannot be used" in html and message in html
    assert "<script>" not in html.split("<main", 1)[-1]


def test_times_are_read_in_the_stated_time_zone(client_for, viewer, settings):
    response = client_for(viewer).get(URL, {"since": "2026-12-02T10:00"})
    assert response.status_code == 200
    assert f"Times are in {settings.TIME_ZONE}" in response.content.decode()


def test_hostile_mention_text_author_and_url_are_escaped(client_for, viewer):
    MentionFactory(
        text='<script>alert("text")</script><img src=x onerror=alert(1)>',
        author="<b onmouseover=alert(2)>boss</b>",
        url="javascript:alert(3)",
    )
    html = client_for(viewer).get(URL).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&quot;text&quot;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html and "open the source" not in html


def test_a_safe_source_url_becomes_a_link(client_for, viewer):
    MentionFactory(url="https://social.example/@a/1")
    html = client_for(viewer).get(URL).content.decode()
    assert 'href="https://social.example/@a/1"' in html and "open the source" in html


def _work_rows():
    watch = WatchFactory(name="Acme Air")
    source = SourceFactory(watch=watch)
    incident = IncidentFactory(watch=watch)
    owned = MentionFactory(source=source, incident=incident, text="owned by the incident")
    loose = MentionFactory(source=source, text="from before the crisis")
    return incident, owned, loose


def test_a_viewer_sees_rows_but_no_write_actions(client_for, viewer):
    _work_rows()
    html = client_for(viewer).get(URL).content.decode()
    assert "owned by the incident" in html and "from before the crisis" in html
    for action in (
        "Save reply",
        "Capture as evidence",
        "Add to incident",
        "Export these mentions",
    ):
        assert action not in html
    results = html.split('class="mentions explorer-results"', 1)[1]
    assert 'method="post"' not in results


def test_a_responder_can_answer_capture_and_add_but_not_export(client_for, responder):
    incident, owned, loose = _work_rows()
    html = client_for(responder).get(URL).content.decode()
    assert reverse("incidents:reply_record", args=[incident.pk]) in html
    assert reverse("incidents:evidence_capture", args=[incident.pk]) in html
    assert reverse("incidents:mention_add", args=[incident.pk]) in html
    assert f'name="next" value="{URL}#mention-{owned.pk}"' in html
    add_form = html.split(reverse("incidents:mention_add", args=[incident.pk]), 1)[1]
    assert f'name="mention" value="{loose.pk}"' in add_form.split("</form>", 1)[0]
    assert "Export these mentions" not in html


def test_answered_and_captured_rows_say_so(client_for, responder):
    incident, owned, _loose = _work_rows()
    Reply.objects.create(incident=incident, mention=owned, text="Sorry!")
    Evidence.objects.create(
        incident=incident,
        mention=owned,
        text=owned.text,
        author=owned.author,
        sha256="0" * 64,
        published_at=owned.published_at,
    )
    response = client_for(responder).get(URL, {"answered": "yes"})
    rows = response.context["page"].rows
    assert [row.mention.pk for row in rows] == [owned.pk]
    assert rows[0].mention.answered and rows[0].mention.has_evidence
    assert "Capture as evidence" not in response.content.decode()


def test_narrowed_to_an_incident_the_page_names_it(client_for, viewer):
    incident, owned, _loose = _work_rows()
    response = client_for(viewer).get(URL, {"incident": incident.pk})
    assert [row.mention.pk for row in response.context["page"].rows] == [owned.pk]
    assert f"Mentions of incident #{incident.pk}" in response.content.decode()


def test_the_query_count_does_not_grow_with_rows(client_for, responder, django_assert_num_queries):
    client = client_for(responder)

    def make(n: int) -> None:
        for _ in range(n):
            watch = WatchFactory()
            incident = IncidentFactory(watch=watch)
            source = SourceFactory(watch=watch)
            MentionFactory(source=source, incident=incident)
            MentionFactory(source=source)

    make(2)
    client.get(URL)  # warm the session and permission caches
    # Session, member, two permission reads, the member's role (navigation); the rows (with
    # answered and evidence); the open incidents of the rows' watches; watches and sources for the
    # filters; on PostgreSQL the statistics of the words searched (see search.newest_first).
    expected = 10 if connection.vendor == "postgresql" else 9
    with django_assert_num_queries(expected):
        assert len(client.get(URL, {"q": "delayed"}).context["page"].rows) == 4
    make(10)
    with django_assert_num_queries(expected):
        assert len(client.get(URL, {"q": "delayed"}).context["page"].rows) == 24


def test_the_watch_page_and_the_incident_queue_link_here(client_for, viewer):
    incident = IncidentFactory(watch=WatchFactory(name="Acme Air"))
    watch_page = client_for(viewer).get(reverse("monitoring:watch_detail", args=[incident.watch_id]))
    assert f'href="{URL}?watch={incident.watch_id}"' in watch_page.content.decode()
    incident_page = client_for(viewer).get(reverse("incidents:detail", args=[incident.pk]))
    assert f'href="{URL}?incident={incident.pk}"' in incident_page.content.decode()
    subnav = client_for(viewer).get(reverse("monitoring:watches")).content.decode()
    assert f'href="{URL}"' in subnav


def test_the_less_used_filters_are_folded_until_one_is_set(client_for, viewer):
    client = client_for(viewer)
    assert '<details class="more-filters">' in client.get(URL, {"q": "bag"}).content.decode()
    assert '<details class="more-filters" open>' in client.get(URL, {"min_reach": "100"}).content.decode()
    assert '<details class="more-filters" open>' in client.get(URL, {"min_reach": "lots"}).content.decode()
