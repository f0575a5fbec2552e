"""The live stream: changes are written to the outbox with the change, streamed by topic as
server-sent events, resumed exactly after ``Last-Event-ID``, and only to members who may read them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crisisdesk.live.selectors import live_events_after, live_latest_id, live_present
from crisisdesk.live.services import live_beat, live_prune, live_publish
from crisisdesk.live.stream import StreamTimes, stream_sync
from crisisdesk.live.tasks import prune_live_events
from crisisdesk.models import LiveEvent, LivePresence
from incidents.lifecycle.services import incident_acknowledge
from monitoring.intake.ingest import ingest_items
from monitoring.sources.base import Item
from tests.factories import IncidentFactory, SourceFactory

pytestmark = pytest.mark.django_db

FAST = {"poll": 0.01, "heartbeat": 0.05, "beat": 10.0, "lifetime": 0.3}


class FakeClock:
    """Time that moves only when the stream sleeps: the loop runs a known number of turns."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _frames(chunks) -> list[dict]:
    events = []
    for chunk in chunks:
        if chunk.startswith("id:"):
            lines = dict(line.split(": ", 1) for line in chunk.strip().split("\n"))
            events.append({"id": int(lines["id"]), **json.loads(lines["data"])})
    return events


def test_an_event_commits_with_its_change_or_not_at_all():
    with transaction.atomic():
        live_publish(topics=["incidents"], kind="kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        live_publish(topics=["incidents"], kind="rolled-back")
        raise RuntimeError
    assert list(LiveEvent.objects.values_list("kind", flat=True)) == ["kept"]


def test_every_incident_change_is_announced_on_its_topics(responder):
    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)
    rows = set(LiveEvent.objects.values_list("topic", "kind"))
    assert {
        (f"incident:{incident.pk}", "acknowledged"),
        ("incidents", "acknowledged"),
        ("overview", "acknowledged"),
    } <= rows
    event = LiveEvent.objects.filter(topic=f"incident:{incident.pk}").last()
    assert event.data == {"actor": responder.username}


def test_mentions_arriving_for_an_open_incident_are_announced_once_per_batch():
    incident = IncidentFactory(detected_at=timezone.now() - timedelta(hours=1))
    source = SourceFactory(watch=incident.watch)
    items = [
        Item(
            external_id=f"m{n}", text=f"acme air lost my bag {n}", published_at=timezone.now(), author=f"u{n}"
        )
        for n in range(5)
    ]
    ingest_items(source=source, items=items)
    (event,) = LiveEvent.objects.filter(topic=f"incident:{incident.pk}", kind="mentions")
    assert event.data == {"count": 5}
    assert LiveEvent.objects.filter(topic="incidents", kind="mentions").count() == 1


def test_the_stream_sends_its_topics_after_the_cursor_and_heartbeats_when_idle(responder):
    live_publish(topics=["incident:1"], kind="before")
    start = live_latest_id()
    live_publish(topics=["incident:1"], kind="status:acknowledged")
    live_publish(topics=["incident:2"], kind="someone-elses")
    live_publish(topics=["incidents"], kind="list")
    clock = FakeClock()
    chunks = list(
        stream_sync(
            topics=["incident:1", "incidents"], after=start, member=responder, here=None,
            times=StreamTimes(**FAST), clock=clock, sleep=clock.sleep,
        )
    )  # fmt: skip
    assert chunks[0] == "retry: 3000\n\n"
    assert [(e["topic"], e["kind"]) for e in _frames(chunks)] == [
        ("incident:1", "status:acknowledged"),
        ("incidents", "list"),
    ]
    assert any(chunk.startswith(": keep-alive") for chunk in chunks)
    assert clock.now >= FAST["lifetime"]  # the stream ends; the browser resumes from its last id


def test_a_present_member_beats_and_is_announced_once(responder, manager):
    now = timezone.now()
    stale = timedelta(seconds=30)
    assert live_beat(topic="incident:7", member=responder, at=now, stale_after=stale) is True
    assert (
        live_beat(topic="incident:7", member=responder, at=now + timedelta(seconds=10), stale_after=stale)
        is False
    )
    assert LivePresence.objects.count() == 1
    assert LiveEvent.objects.filter(topic="incident:7", kind="presence").count() == 1
    live_beat(topic="incident:7", member=manager, at=now, stale_after=stale)
    assert live_present(topic="incident:7", since=now - stale) == sorted(
        [manager.username, responder.username]
    )
    assert live_present(topic="incident:7", since=now + timedelta(seconds=5)) == [responder.username]


def test_old_events_and_presence_are_pruned(responder):
    live_publish(topics=["incidents"], kind="old")
    LiveEvent.objects.update(at=timezone.now() - timedelta(days=2))
    live_publish(topics=["incidents"], kind="new")
    live_beat(
        topic="incidents",
        member=responder,
        at=timezone.now() - timedelta(days=2),
        stale_after=timedelta(seconds=30),
    )
    assert prune_live_events() == 1  # the old event; the old beat's presence row goes too
    assert list(LiveEvent.objects.order_by("pk").values_list("kind", flat=True)) == ["new", "presence"]
    assert LivePresence.objects.count() == 0
    assert live_prune(before=timezone.now() - timedelta(days=1)) == 0


def _read(response) -> list[str]:
    return [chunk.decode() for chunk in response.streaming_content]


def test_the_endpoint_resumes_after_last_event_id(viewer, client_for, settings):
    settings.LIVE_STREAM_TIMES = FAST
    incident = IncidentFactory()
    topic = f"incident:{incident.pk}"
    live_publish(topics=[topic], kind="first")
    first = live_latest_id()
    live_publish(topics=[topic], kind="second")
    live_publish(topics=[topic], kind="third")
    response = client_for(viewer).get(reverse("live"), {"topics": topic}, HTTP_LAST_EVENT_ID=str(first))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream" and response["Cache-Control"] == "no-cache"
    assert [e["kind"] for e in _frames(_read(response))] == ["second", "third"]
    # A fresh page (no Last-Event-ID) starts after what already happened.
    fresh = client_for(viewer).get(reverse("live"), {"topics": topic})
    assert _frames(_read(fresh)) == []


def test_here_marks_the_member_present(responder, client_for, settings):
    settings.LIVE_STREAM_TIMES = FAST
    incident = IncidentFactory()
    topic = f"incident:{incident.pk}"
    _read(client_for(responder).get(reverse("live"), {"topics": topic, "here": topic}))
    assert live_present(topic=topic, since=timezone.now() - timedelta(seconds=30)) == [responder.username]
    assert [e.kind for e in live_events_after(topics=[topic], after=0)] == ["presence"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"topics": "secrets"},
        {"topics": "incident:0"},
        {"topics": "incident:abc"},
        {"topics": "a,b,c,d,e"},
        {"topics": "incidents", "here": "overview"},
    ],
)
def test_bad_topics_are_refused_with_a_message(query, viewer, client_for):
    response = client_for(viewer).get(reverse("live"), query)
    assert response.status_code == 400 and response.content


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("live"), {"topics": "incidents"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_under_asgi_the_stream_is_an_async_iterator(viewer, settings):
    """Production serves the stream from uvicorn workers: a waiting stream holds no thread."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    settings.LIVE_STREAM_TIMES = FAST
    incident = IncidentFactory()
    topic = f"incident:{incident.pk}"
    start = live_latest_id()
    live_publish(topics=[topic], kind="status:acknowledged")

    async def read() -> tuple[bool, list[str]]:
        client = AsyncClient()
        await client.aforce_login(viewer)
        response = await client.get(reverse("live"), {"topics": topic}, headers={"Last-Event-ID": str(start)})
        return response.is_async, [chunk.decode() async for chunk in response.streaming_content]

    is_async, chunks = async_to_sync(read)()
    assert is_async
    assert [e["kind"] for e in _frames(chunks)] == ["status:acknowledged"]


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_committed_event_wakes_waiting_streams_at_once():
    """The listener hears the outbox trigger's NOTIFY at commit: a waiting stream returns well
    before its poll interval, and a rolled-back event wakes nobody."""
    import asyncio
    import threading
    import time

    from django.db import connection

    from crisisdesk.live.wake import Waker

    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite streams wait their poll interval")
    waker = Waker()
    assert waker.start(force=True)
    time.sleep(0.5)  # the listener connects and LISTENs

    def publish_soon(rollback: bool) -> None:
        time.sleep(0.2)
        try:
            with transaction.atomic():
                live_publish(topics=["incidents"], kind="woke")
                if rollback:
                    raise RuntimeError
        except RuntimeError:
            pass
        connection.close()  # this thread's connection

    async def wait_for_wake(rollback: bool) -> float:
        threading.Thread(target=publish_soon, args=(rollback,)).start()
        started = time.monotonic()
        await waker.wait(timeout=3.0)
        return time.monotonic() - started

    def run(rollback: bool) -> float:
        # A loop of its own in a thread of its own: Playwright's sync API may already run one here.
        waited: list[float] = []
        thread = threading.Thread(target=lambda: waited.append(asyncio.run(wait_for_wake(rollback))))
        thread.start()
        thread.join(timeout=10)
        return waited[0]

    try:
        assert run(rollback=False) < 1.5 and waker.notifications == 1
        assert run(rollback=True) >= 3.0 and waker.notifications == 1
    finally:
        waker.stop()  # its connection would keep the test database from being dropped
