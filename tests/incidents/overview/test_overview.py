"""The overview answers "what needs me now": watch states with sparklines, and my unfinished work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Draft, Reply, RoleAssignment, Task
from incidents.overview.selectors import _deadline_mentions, my_work, watch_states
from monitoring.models import Bucket, Rule
from tests.conftest import PASSWORD
from tests.factories import IncidentFactory, MentionFactory, RuleFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _old_watch(name: str):
    watch = WatchFactory(name=name)
    RuleFactory(watch=watch, kind="volume_spike", baseline_hours=24)
    # Created long ago: its baseline is full.
    type(watch).objects.filter(pk=watch.pk).update(created_at=NOW - timedelta(days=30))
    Rule.objects.filter(watch=watch).update(created_at=NOW - timedelta(days=30))
    return watch


def test_watch_states_are_incident_learning_or_calm():
    calm = _old_watch("Calm Air")
    burning = _old_watch("Burning Air")
    IncidentFactory(watch=burning, severity=1)
    learning = WatchFactory(name="New Air")
    RuleFactory(watch=learning, kind="negative_spike", baseline_hours=48)
    states = {state.name: state for state in watch_states(now=NOW)}
    assert states["Burning Air"].state == "incident" and states["Burning Air"].incident.severity == 1
    assert states["Calm Air"].state == "calm" and states["Calm Air"].learning_until is None
    assert states["New Air"].state == "learning"
    assert states["New Air"].learning_until == learning.created_at + timedelta(hours=48)
    # Incidents first, then learning, then calm.
    assert [s.name for s in watch_states(now=NOW)] == ["Burning Air", "New Air", "Calm Air"]
    assert calm.pk in {s.watch_id for s in states.values()}


def test_sparklines_cover_24_hours_and_7_days_up_to_the_current_hour():
    watch = _old_watch("Acme Air")
    hour = NOW.replace(minute=0)
    Bucket.objects.create(watch=watch, start=hour + timedelta(minutes=5), volume=10, negative=5)
    Bucket.objects.create(watch=watch, start=hour - timedelta(hours=3), volume=4, negative=0)
    Bucket.objects.create(watch=watch, start=hour - timedelta(days=3), volume=30, negative=3)
    (state,) = watch_states(now=NOW)
    assert len(state.volume_24h.values) == 24 and len(state.volume_7d.values) == 28
    assert state.volume_24h.values[-1] == 10 and state.negative_share_24h.values[-1] == 0.5
    assert state.volume_24h.values[-4] == 4 and state.negative_share_24h.values[-4] == 0.0
    assert state.volume_24h.baseline == pytest.approx(14 / 24)
    assert state.negative_share_24h.baseline == pytest.approx(5 / 14)
    assert sum(state.volume_7d.values) == 44


def test_watch_states_cost_a_fixed_number_of_queries():
    for n in range(3):
        watch = _old_watch(f"Watch {n}")
        SourceFactory(watch=watch)
        Bucket.objects.create(watch=watch, start=NOW - timedelta(hours=2), volume=3, negative=1)
    with CaptureQueriesContext(connection) as few:
        watch_states(now=NOW)
    for n in range(3, 12):
        watch = _old_watch(f"Watch {n}")
        SourceFactory(watch=watch)
        IncidentFactory(watch=watch)
    with CaptureQueriesContext(connection) as many:
        watch_states(now=NOW)
    assert len(many) == len(few) <= 5


def test_my_work_lists_what_waits_for_me(responder, manager, responder2):
    incident = IncidentFactory(title="Baggage chaos", detected_at=NOW - timedelta(hours=2))
    acknowledged = IncidentFactory(title="Old one", status="acknowledged", owner=manager)
    draft = Draft.objects.create(
        incident=incident, body="We are on it.", status="in_review", author=responder
    )
    mine = Draft.objects.create(incident=incident, body="Mine.", status="in_review", author=manager)
    lead = RoleAssignment.objects.create(incident=incident, role_name="Incident lead", user=responder)
    late = Task.objects.create(
        incident=incident,
        title="Confirm the facts",
        role_name=lead.role_name,
        due_at=NOW - timedelta(minutes=5),
    )
    Task.objects.create(
        incident=incident, title="Not late", role_name=lead.role_name, due_at=NOW + timedelta(hours=1)
    )
    Task.objects.create(
        incident=incident, title="Someone else's", role_name="Spokesperson", due_at=NOW - timedelta(hours=1)
    )
    unowned = Task.objects.create(incident=acknowledged, title="No role", due_at=NOW - timedelta(minutes=1))
    source = SourceFactory(watch=incident.watch)
    overdue = MentionFactory(
        source=source,
        incident=incident,
        sentiment_label="negative",
        published_at=NOW - timedelta(minutes=70),
        text="Where is my bag?",
    )
    answered = MentionFactory(
        source=source, incident=incident, sentiment_label="negative", published_at=NOW - timedelta(minutes=55)
    )
    Reply.objects.create(incident=incident, mention=answered, text="Sorry", replied_by=responder2)
    MentionFactory(
        source=source, incident=incident, sentiment_label="negative", published_at=NOW - timedelta(minutes=1)
    )  # due in 59 minutes: not yet near
    near = MentionFactory(
        source=source, incident=incident, sentiment_label="negative", published_at=NOW - timedelta(minutes=50)
    )  # due in 10 minutes
    MentionFactory(
        source=source, incident=incident, sentiment_label="positive", published_at=NOW - timedelta(minutes=50)
    )

    work = my_work(responder, now=NOW)
    assert [i.title for i in work.unacknowledged] == ["Baggage chaos"]
    assert work.approvals == []  # a responder may not approve
    assert [t.pk for t in work.overdue_tasks] == [late.pk]
    assert [item.mention.pk for item in work.deadlines] == [overdue.pk, near.pk]
    assert work.deadlines[0].overdue and not work.deadlines[1].overdue

    for_manager = my_work(manager, now=NOW)
    assert [d.pk for d in for_manager.approvals] == [draft.pk] and mine.pk not in {
        d.pk for d in for_manager.approvals
    }
    assert [t.pk for t in for_manager.overdue_tasks] == [unowned.pk]


def test_my_work_costs_a_fixed_number_of_queries(manager):
    def add(n):
        for _ in range(n):
            incident = IncidentFactory(detected_at=NOW - timedelta(hours=2))
            Draft.objects.create(incident=incident, body="x", status="in_review")
            Task.objects.create(incident=incident, title="t", due_at=NOW - timedelta(hours=1))
            MentionFactory(
                source=SourceFactory(watch=incident.watch),
                incident=incident,
                sentiment_label="negative",
                published_at=NOW - timedelta(hours=1),
            )
            type(incident).objects.filter(pk=incident.pk).update(owner=manager)

    add(2)
    with CaptureQueriesContext(connection) as few:
        my_work(manager, now=NOW)
    add(12)
    with CaptureQueriesContext(connection) as many:
        work = my_work(manager, now=NOW)
    assert work.approvals_total == 14 and work.overdue_tasks_total == 14 and work.deadlines_total == 14
    assert len(work.approvals) == 10
    assert len(many) - len(few) <= 3  # the three "how many more" counts, only past the cap


@pytest.mark.parametrize("persona", ["admin_member", "manager", "responder", "viewer"])
def test_every_role_lands_on_the_overview(persona, request, client_for):
    _old_watch("Acme Air")
    response = client_for(request.getfixturevalue(persona)).get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "What needs you now" in html and "Acme Air" in html and '<svg class="sparkline"' in html


def test_signing_in_lands_on_the_overview(responder, client):
    response = client.post(reverse("login"), {"username": responder.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_hostile_text_is_escaped(responder, client_for):
    watch = _old_watch("<script>alert('w')</script>")
    incident = IncidentFactory(
        watch=watch, title="<img src=x onerror=alert(1)>", detected_at=NOW - timedelta(hours=1)
    )
    MentionFactory(
        source=SourceFactory(watch=watch),
        incident=incident,
        sentiment_label="negative",
        published_at=NOW - timedelta(minutes=45),
        author="<b>evil</b>",
        text="<script>alert(2)</script>",
    )
    html = client_for(responder).get(reverse("home")).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>evil</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_deadline_mentions_are_not_ordered_through_the_time_index():
    incident = IncidentFactory(detected_at=NOW - timedelta(hours=2))
    source = SourceFactory(watch=incident.watch)
    for minutes in (50, 70):
        MentionFactory(
            source=source,
            incident=incident,
            sentiment_label="negative",
            published_at=NOW - timedelta(minutes=minutes),
        )
    query = _deadline_mentions([incident], NOW)[:10]
    assert [m.published_at for m in query] == [NOW - timedelta(minutes=70), NOW - timedelta(minutes=50)]
    # Ordered by the bare column, PostgreSQL walked the time index of every watch from 90 days ago
    # for the first ten rows (210 ms at a million mentions, bench/pages.py); ordered through an
    # expression it reads the incidents' rows by their own index and sorts them. A small test
    # table cannot show that plan, so the order expression itself is pinned.
    sql = str(query.query).upper()
    order_by = sql.rsplit("ORDER BY", 1)[1]
    first_key = order_by.split(" ASC", 1)[0]
    assert (
        '"MONITORING_MENTION"."PUBLISHED_AT"' in first_key
        and first_key.strip() != '"MONITORING_MENTION"."PUBLISHED_AT"'
    )
    assert "+" in first_key
