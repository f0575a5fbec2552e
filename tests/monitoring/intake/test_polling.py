"""Polling: claims, cursors that move only after storing, backoff, health and heartbeats."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crisisdesk.models import AuditRecord
from monitoring.intake import polling
from monitoring.intake.polling import check_heartbeats, due_source_ids, poll_source
from monitoring.models import Mention, Source, SourceHealth
from tests.factories import SourceFactory, WatchFactory
from tests.recorded_server import Reply

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"


def rss_reply(name: str = "rss20.xml") -> Reply:
    return Reply(200, (FEEDS / name).read_bytes(), {}, "application/rss+xml")


@pytest.fixture
def feed_source(db, recorded_server):
    recorded_server.route("GET", "/feed.xml", rss_reply())
    return SourceFactory(
        kind="rss",
        name="Travel Desk",
        config={"url": recorded_server.url + "/feed.xml"},
        poll_interval=300,
        next_poll_at=timezone.now() - timedelta(seconds=1),
    )


def health_audits(source: Source) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action="source.health", object_id=str(source.pk)).order_by("id"))


def test_a_poll_stores_the_items_then_the_cursor_and_schedules_the_next(feed_source):
    now = timezone.now()

    outcome = poll_source(source_id=feed_source.pk, now=now)

    assert (outcome.status, outcome.created) == ("ok", 2)
    feed_source.refresh_from_db()
    assert Mention.objects.filter(source=feed_source).count() == 2
    assert feed_source.cursor["seen"] == ["td-4711", "td-4702"]
    assert feed_source.health == SourceHealth.OK
    assert feed_source.last_success_at == now and feed_source.lease_until is None
    assert feed_source.next_poll_at == now + timedelta(seconds=300)
    assert [a.after["health"] for a in health_audits(feed_source)] == ["ok"]


def test_a_second_poll_while_the_source_is_leased_does_nothing(feed_source, recorded_server):
    Source.objects.filter(pk=feed_source.pk).update(lease_until=timezone.now() + timedelta(minutes=2))

    outcome = poll_source(source_id=feed_source.pk)

    assert outcome.status == "skipped"
    assert recorded_server.requests == []
    assert Mention.objects.count() == 0


def test_only_one_of_two_claims_wins(feed_source):
    now = timezone.now()

    assert polling._claim(feed_source.pk, now) is not None
    assert polling._claim(feed_source.pk, now) is None


def test_a_poll_before_the_source_is_due_again_does_nothing(feed_source, recorded_server):
    poll_source(source_id=feed_source.pk)

    assert poll_source(source_id=feed_source.pk).status == "skipped"
    assert len(recorded_server.requests) == 1


def test_an_expired_lease_can_be_taken_over(feed_source):
    Source.objects.filter(pk=feed_source.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert poll_source(source_id=feed_source.pk).status == "ok"


def test_a_poll_that_fails_halfway_through_storing_keeps_the_cursor_and_loses_nothing(
    feed_source, monkeypatch
):
    real_ingest = polling.ingest_items

    def ingest_then_crash(**kwargs):
        real_ingest(**kwargs)  # the rows are written…
        raise RuntimeError("worker lost its database connection")  # …and the transaction dies

    monkeypatch.setattr(polling, "ingest_items", ingest_then_crash)
    now = timezone.now()

    outcome = poll_source(source_id=feed_source.pk, now=now)

    feed_source.refresh_from_db()
    assert outcome.status == "temporary"
    assert Mention.objects.count() == 0
    assert feed_source.cursor == {}
    assert feed_source.health == SourceHealth.DEGRADED and feed_source.lease_until is None

    monkeypatch.setattr(polling, "ingest_items", real_ingest)
    assert poll_source(source_id=feed_source.pk, now=feed_source.next_poll_at).created == 2
    assert Mention.objects.count() == 2


def test_a_temporary_error_backs_off_honours_retry_after_and_keeps_the_cursor(feed_source, recorded_server):
    Source.objects.filter(pk=feed_source.pk).update(cursor={"seen": ["old"]})
    recorded_server.route(
        "GET", "/feed.xml", Reply(429, b"slow down", {"Retry-After": "900"}), Reply(503, b"down")
    )
    now = timezone.now()

    first = poll_source(source_id=feed_source.pk, now=now)
    feed_source.refresh_from_db()

    assert first.status == "temporary"
    assert feed_source.health == SourceHealth.DEGRADED
    assert feed_source.cursor == {"seen": ["old"]}
    assert feed_source.consecutive_failures == 1
    assert feed_source.next_poll_at == now + timedelta(seconds=900)  # Retry-After beats the 300 s base
    assert "429" in feed_source.last_error

    later = feed_source.next_poll_at
    second = poll_source(source_id=feed_source.pk, now=later)
    feed_source.refresh_from_db()
    assert second.status == "temporary"
    assert feed_source.consecutive_failures == 2
    assert feed_source.next_poll_at == later + timedelta(seconds=600)  # 300 s doubled
    assert [a.after["health"] for a in health_audits(feed_source)] == ["degraded"]  # one flip, one row


def test_a_permanent_error_marks_the_source_failing_with_the_reason(feed_source, recorded_server):
    recorded_server.route("GET", "/feed.xml", Reply(401, b"who are you"))
    now = timezone.now()

    outcome = poll_source(source_id=feed_source.pk, now=now)

    feed_source.refresh_from_db()
    assert outcome.status == "permanent"
    assert feed_source.health == SourceHealth.FAILING
    assert "401" in feed_source.last_error
    assert feed_source.next_poll_at == now + polling.PERMANENT_RETRY
    (audit,) = health_audits(feed_source)
    assert audit.actor is None and audit.before == {"health": "unknown"} and "401" in audit.after["reason"]


def test_a_failing_source_recovers_on_its_next_good_poll(feed_source, recorded_server):
    recorded_server.route("GET", "/feed.xml", Reply(500, b"boom"), rss_reply())
    poll_source(source_id=feed_source.pk)
    feed_source.refresh_from_db()

    outcome = poll_source(source_id=feed_source.pk, now=feed_source.next_poll_at)

    feed_source.refresh_from_db()
    assert outcome.status == "ok"
    assert (feed_source.health, feed_source.consecutive_failures, feed_source.last_error) == ("ok", 0, "")
    assert [a.after["health"] for a in health_audits(feed_source)] == ["degraded", "ok"]


def test_due_sources_are_active_pull_sources_whose_time_has_come(db):
    now = timezone.now()
    watch = WatchFactory(name="Due")
    due = SourceFactory(watch=watch, kind="rss", next_poll_at=now - timedelta(seconds=5))
    SourceFactory(watch=watch, kind="rss", next_poll_at=now + timedelta(minutes=1))
    SourceFactory(watch=watch, kind="rss", next_poll_at=now, lease_until=now + timedelta(minutes=1))
    SourceFactory(watch=watch, kind="rss", next_poll_at=now, is_active=False)
    SourceFactory(watch=watch, kind="webhook", next_poll_at=now)
    SourceFactory(watch=WatchFactory(name="Paused", is_active=False), kind="rss", next_poll_at=now)
    drill = SourceFactory(watch=watch, kind="drill", next_poll_at=now - timedelta(seconds=1))

    assert due_source_ids(now=now) == [due.pk, drill.pk]
    assert due_source_ids(now=now, limit=1) == [due.pk]


def test_a_pull_source_without_success_past_its_deadline_goes_silent(db):
    now = timezone.now()
    watch = WatchFactory(name="Heartbeats")
    dead = SourceFactory(
        watch=watch, kind="rss", poll_interval=60, health="ok", last_success_at=now - timedelta(minutes=16)
    )
    alive = SourceFactory(
        watch=watch, kind="rss", poll_interval=60, health="ok", last_success_at=now - timedelta(minutes=14)
    )
    failing = SourceFactory(
        watch=watch, kind="rss", health="failing", last_success_at=now - timedelta(days=2)
    )

    assert check_heartbeats(now=now) == [dead.pk]

    assert Source.objects.get(pk=dead.pk).health == SourceHealth.SILENT
    assert Source.objects.get(pk=alive.pk).health == SourceHealth.OK
    assert Source.objects.get(pk=failing.pk).health == SourceHealth.FAILING
    (audit,) = health_audits(dead)
    assert audit.after["health"] == "silent"
    assert check_heartbeats(now=now) == []  # already silent: no second row


def test_a_webhook_goes_silent_only_past_its_expected_interval(db):
    now = timezone.now()
    watch = WatchFactory(name="Pushes")
    late = SourceFactory(
        watch=watch,
        kind="webhook",
        config={"expected_interval_minutes": 30},
        last_mention_at=now - timedelta(minutes=31),
    )
    on_time = SourceFactory(
        watch=watch,
        kind="webhook",
        config={"expected_interval_minutes": 30},
        last_mention_at=now - timedelta(minutes=29),
    )
    no_rhythm = SourceFactory(watch=watch, kind="webhook", last_mention_at=now - timedelta(days=9))
    Source.objects.filter(pk=no_rhythm.pk).update(created_at=now - timedelta(days=10))

    assert check_heartbeats(now=now) == [late.pk]
    assert Source.objects.get(pk=on_time.pk).health == SourceHealth.UNKNOWN
    assert Source.objects.get(pk=no_rhythm.pk).health == SourceHealth.UNKNOWN
