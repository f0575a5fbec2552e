"""The incident page leads with the crisis: figures, a phased chart with markers, who and what is
loud, the timeline in pages, and what changed since this member last looked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.lifecycle.services import incident_acknowledge, incident_resolve
from incidents.lifecycle.timeline import timeline_add
from incidents.models import IncidentView, TimelineEvent
from incidents.room.selectors import (
    CHART_POINTS_MAX,
    TIMELINE_PAGE,
    crisis_breakdown,
    crisis_chart,
    crisis_glance,
    since_last_looked,
    timeline_page,
)
from incidents.room.services import incident_seen
from monitoring.models import Bucket, Signal
from tests.factories import IncidentFactory, MentionFactory, RuleFactory, SourceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def incident():
    return IncidentFactory(title="Baggage chaos", detected_at=NOW - timedelta(hours=3))


def _mention(incident, minutes_ago, label="negative", **extra):
    source = extra.pop("source", None) or SourceFactory(watch=incident.watch)
    return MentionFactory(
        source=source,
        incident=incident,
        sentiment_label=label,
        published_at=NOW - timedelta(minutes=minutes_ago),
        **extra,
    )


def test_the_figures_compare_the_negative_share_now_with_the_weeks_before(incident):
    source = SourceFactory(watch=incident.watch)
    for minutes in (10, 20, 30):
        _mention(incident, minutes, source=source)
    _mention(incident, 40, label="neutral", source=source)
    _mention(incident, 120, label="neutral", source=source)  # before the last hour
    began = incident.detected_at
    Bucket.objects.create(watch=incident.watch, start=began - timedelta(days=2), volume=100, negative=10)
    glance = crisis_glance(incident, began=began, now=NOW)
    assert glance.mentions == 5 and glance.negative == 3 and glance.mentions_last_hour == 4
    assert glance.share_now == pytest.approx(0.75) and glance.share_baseline == pytest.approx(0.10)


def test_the_chart_runs_from_before_the_start_to_now_with_phases_and_markers(incident, responder):
    began = incident.detected_at - timedelta(minutes=30)
    Bucket.objects.create(watch=incident.watch, start=began - timedelta(minutes=60), volume=2, negative=0)
    Bucket.objects.create(
        watch=incident.watch, start=incident.detected_at, volume=40, negative=30, risk_sum=20, risk_max=0.9
    )
    rule = RuleFactory(watch=incident.watch, name="Negative spike")
    Signal.objects.create(
        rule=rule, watch=incident.watch, incident=incident, detected_at=incident.detected_at,
        window_start=incident.detected_at, window_end=incident.detected_at, observed=30, expected=2, severity=2,
    )  # fmt: skip
    incident_acknowledge(incident=incident, by=responder)
    timeline_add(
        incident=incident, kind="draft:published", text="Published on X (Twitter): Holding statement"
    )
    chart = crisis_chart(incident, began=began, now=NOW)
    # 2 h lead + 30 min pre + 3 h since detection, in 5-minute steps, ending in now's bucket.
    assert len(chart["labels"]) == len(chart["volume"]) == (120 + 30 + 180) // 5 + 1
    assert chart["labels"][0] == (began - timedelta(hours=2)).isoformat()
    detected_at = chart["labels"].index(incident.detected_at.isoformat())
    assert chart["volume"][detected_at] == 40 and chart["negative"][detected_at] == 30
    assert chart["risk_mean"][detected_at] == 0.5 and chart["risk_max"][detected_at] == 0.9
    assert [p["phase"] for p in chart["phases"]] == ["pre", "during"]
    assert chart["phases"][0]["to"] == detected_at == chart["phases"][1]["from"]
    kinds = [m["kind"] for m in chart["markers"]]
    assert (
        kinds == ["signal", "status", "statement"] and chart["markers"][0]["text"] == "Signal: Negative spike"
    )
    assert all(0 <= m["i"] < len(chart["labels"]) for m in chart["markers"])


def test_a_long_incident_is_drawn_in_wider_steps(responder):
    incident = IncidentFactory(detected_at=NOW - timedelta(days=20))
    incident_acknowledge(incident=incident, by=responder)
    incident_resolve(incident=incident, by=responder)
    chart = crisis_chart(incident, began=incident.detected_at, now=NOW)
    assert len(chart["labels"]) <= CHART_POINTS_MAX and chart["step_seconds"] > 300
    assert [p["phase"] for p in chart["phases"]] == ["pre", "during", "post"]


def test_the_breakdown_names_terms_voices_and_languages(incident):
    source = SourceFactory(watch=incident.watch)
    _mention(
        incident,
        5,
        source=source,
        author="@big",
        author_reach=90_000,
        crisis_terms=["refund", "lost"],
        language="en",
    )
    _mention(
        incident, 6, source=source, author="@big", author_reach=90_000, crisis_terms=["refund"], language="en"
    )
    _mention(
        incident,
        7,
        source=source,
        author="@small",
        author_reach=12,
        crisis_terms=["kayıp"],
        language="tr",
        label="neutral",
    )
    _mention(
        incident,
        8,
        source=source,
        author="@AcmeAir",
        author_reach=10**7,
        crisis_terms=["refund"],
        is_own=True,
    )
    breakdown = crisis_breakdown(incident)
    assert (
        breakdown.terms[0] == ("refund", 2) and ("kayıp", 1) in breakdown.terms
    )  # our own post is not counted
    assert [v["author"] for v in breakdown.voices] == ["@big", "@small"]
    assert breakdown.voices[0]["mentions"] == 2 and breakdown.voices[0]["negative"] == 2
    assert breakdown.languages == [("en", 2), ("tr", 1)]


def test_the_timeline_shows_the_newest_events_of_each_phase_and_pages_back(incident, client_for, viewer):
    for n in range(TIMELINE_PAGE + 5):
        timeline_add(
            incident=incident, kind="note", text=f"note {n}", at=incident.detected_at + timedelta(minutes=n)
        )
    timeline_add(
        incident=incident, kind="mention", text="early", at=incident.detected_at - timedelta(minutes=5)
    )
    groups = {group.phase: group for group in timeline_page(incident)}
    during = groups["during"]
    assert len(during.events) == TIMELINE_PAGE and during.more
    assert during.events[0].text == f"note {TIMELINE_PAGE + 4}"  # newest first
    assert [e.text for e in groups["pre"].events] == ["early"] and not groups["pre"].more
    (older,) = timeline_page(incident, phase="during", before=during.events[-1].pk)
    assert [e.text for e in older.events] == [f"note {n}" for n in range(4, -1, -1)] and not older.more

    client = client_for(viewer)
    url = reverse("incidents:timeline_more", args=[incident.pk])
    response = client.get(url, {"phase": "during", "before": during.events[-1].pk})
    assert response.status_code == 200 and response.content.decode().count('class="event ') == 5
    assert client.get(url, {"phase": "sideways", "before": "1"}).status_code == 400
    assert client.get(url, {"phase": "during", "before": "x"}).status_code == 400
    missing = reverse("incidents:timeline_more", args=[999999])
    assert client.get(missing, {"phase": "during", "before": "1"}).status_code == 404


def test_a_2000_event_incident_renders_one_page_of_each_phase(incident, client_for, responder):
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                incident=incident, phase="during", kind="note", text=f"n{n}", at=NOW - timedelta(seconds=n)
            )
            for n in range(2000)
        ]
    )
    html = client_for(responder).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert html.count('class="event kind-note"') == TIMELINE_PAGE
    assert "Show older events" in html


def test_since_you_last_looked_lists_what_others_changed(incident, responder, manager, client_for):
    assert not since_last_looked(incident, responder).anything  # a first visit: nothing to compare
    incident_seen(incident=incident, member=responder, at=NOW - timedelta(minutes=30))
    incident_seen(incident=incident, member=responder, at=NOW - timedelta(minutes=20))  # one row per pair
    assert IncidentView.objects.filter(incident=incident, member=responder).count() == 1
    timeline_add(incident=incident, kind="signal_attached", text="Another spike")
    timeline_add(incident=incident, kind="draft:submitted", text="Draft submitted", actor=manager)
    timeline_add(incident=incident, kind="note", text="My own note", actor=responder)
    incident_acknowledge(incident=incident, by=manager)
    since = since_last_looked(incident, responder)
    assert since.signals == 1 and since.drafts_submitted == 1 and since.other_events == 0
    assert [e.kind for e in since.status_changes] == ["status:acknowledged"]

    client = client_for(responder)
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Since you last looked (20" in html and "1 new signal" in html and "1 draft submitted" in html
    # The visit moved the mark: straight after it, nothing is new.
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Since you last looked" not in html


def test_hostile_terms_and_authors_are_escaped(incident, client_for, viewer):
    _mention(incident, 5, author="<img src=x onerror=alert(1)>", crisis_terms=["<script>alert(2)</script>"])
    html = client_for(viewer).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_the_chart_reads_its_buckets_without_joining_or_sorting_by_watch(incident):
    began = incident.detected_at - timedelta(minutes=30)
    Bucket.objects.create(watch=incident.watch, start=incident.detected_at, volume=4, negative=1)
    with CaptureQueriesContext(connection) as queries:
        chart = crisis_chart(incident, began=began, now=NOW)
    (bucket_query,) = [q["sql"] for q in queries if '"monitoring_bucket"' in q["sql"]]
    # Bucket's default order is by the watch's name: a join and a sort of the whole span.
    assert '"monitoring_watch"' not in bucket_query and "ORDER BY" not in bucket_query
    assert sum(chart["volume"]) == 4 and sum(chart["negative"]) == 1
