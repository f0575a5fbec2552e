"""Celery tasks: thin, idempotent, enqueue follow-ups only after commit."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from incidents.models import Incident
from incidents.tasks import escalate_signal
from monitoring import tasks
from monitoring.models import Bucket, Mention, Rule, Signal, Watch
from monitoring.schedule import BEAT
from monitoring.scoring import rescore
from tests.factories import MentionFactory, RuleFactory, SourceFactory, WatchFactory


def settled(watch) -> None:
    """Backdate the watch and its rules by a month: past their learning period, they may fire."""
    month_ago = timezone.now() - timedelta(days=30)
    Watch.objects.filter(pk=watch.pk).update(created_at=month_ago)
    Rule.objects.filter(watch=watch).update(created_at=month_ago)


def sent(captured) -> list[tuple[str, tuple]]:
    """The (task name, args) the captured on_commit callbacks enqueue when they run."""
    with mock.patch("crisisdesk.nudging.enqueue_now") as send:
        for callback in captured:
            callback()
    return [(call.args[0], tuple(call.args[1:])) for call in send.call_args_list]


@pytest.mark.django_db
def test_scoring_task_nudges_detection_for_each_touched_watch(django_capture_on_commit_callbacks):
    source = SourceFactory()
    MentionFactory.create_batch(3, source=source)
    with django_capture_on_commit_callbacks() as captured:
        tasks.score_new_mentions()
    assert sent(captured) == [("monitoring.tasks.detect_watch", (source.watch_id,))]
    assert Bucket.objects.get(watch=source.watch).volume == 3


@pytest.mark.django_db
def test_scoring_task_re_enqueues_itself_while_a_flood_remains(
    django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(tasks, "SCORE_BATCHES_PER_RUN", 1)
    monkeypatch.setattr(rescore, "DEFAULT_BATCH", 2)
    MentionFactory.create_batch(3, source=SourceFactory())
    with django_capture_on_commit_callbacks() as captured:
        tasks.score_new_mentions()
    assert ("monitoring.tasks.score_new_mentions", ()) in sent(captured)
    assert Mention.objects.filter(state="new").count() == 1


@pytest.mark.django_db
def test_detect_task_escalates_new_signals_after_commit(django_capture_on_commit_callbacks):
    watch = WatchFactory()
    RuleFactory(watch=watch, min_count=5)
    settled(watch)
    MentionFactory.create_batch(12, source=SourceFactory(watch=watch))
    rescore.score_new_mentions()
    with django_capture_on_commit_callbacks() as captured:
        assert tasks.detect_watch(watch.pk) == 1
    signal = Signal.objects.get()
    assert sent(captured) == [("incidents.tasks.escalate_signal", (signal.pk,))]
    # A duplicate detect message in the same window finds the rule cooling down.
    assert tasks.detect_watch(watch.pk) == 0


@pytest.mark.django_db
def test_escalate_task_is_idempotent():
    watch = WatchFactory()
    RuleFactory(watch=watch, min_count=5)
    settled(watch)
    MentionFactory.create_batch(12, source=SourceFactory(watch=watch))
    rescore.score_new_mentions()
    tasks.detect_watch(watch.pk)
    signal = Signal.objects.get()
    first = escalate_signal(signal.pk)
    assert first == Incident.objects.get().pk
    assert escalate_signal(signal.pk) is None
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_sweep_re_nudges_what_a_lost_message_left_behind(django_capture_on_commit_callbacks):
    watch = WatchFactory()
    old = timezone.now() - timedelta(minutes=2)
    MentionFactory(source=SourceFactory(watch=watch), fetched_at=old)
    rule = RuleFactory(watch=watch)
    signal = Signal.objects.create(
        rule=rule,
        watch=watch,
        detected_at=old,
        window_start=old,
        window_end=old,
        observed=1,
        expected=1,
        severity=3,
    )
    Bucket.objects.create(watch=watch, start=timezone.now() - timedelta(minutes=3), volume=1)
    with django_capture_on_commit_callbacks() as captured:
        nudged = tasks.sweep()
    assert nudged["score"] == 1 and nudged["escalate"] == 1 and nudged["detect"] == 1
    calls = sent(captured)
    assert ("monitoring.tasks.score_new_mentions", ()) in calls
    assert ("incidents.tasks.escalate_signal", (signal.pk,)) in calls
    assert ("monitoring.tasks.detect_watch", (watch.pk,)) in calls


@pytest.mark.django_db
def test_sweep_leaves_fresh_work_to_its_own_message(django_capture_on_commit_callbacks):
    MentionFactory(source=SourceFactory())
    with django_capture_on_commit_callbacks() as captured:
        nudged = tasks.sweep()
    assert nudged["score"] == 0
    assert ("monitoring.tasks.score_new_mentions", ()) not in sent(captured)


@pytest.mark.django_db
def test_poll_due_sources_sends_one_message_per_due_source():
    due = SourceFactory(kind="rss", config={"url": "http://127.0.0.1:9/feed"}, next_poll_at=timezone.now())
    SourceFactory(
        kind="rss",
        config={"url": "http://127.0.0.1:9/feed"},
        next_poll_at=timezone.now() + timedelta(hours=1),
    )
    with mock.patch("monitoring.nudges.enqueue_now") as send:
        assert tasks.poll_due_sources() == 1
    send.assert_called_once_with("monitoring.tasks.poll_source", due.pk)


def test_beat_runs_polling_heartbeats_and_the_sweeper_and_routes_match():
    from django.conf import settings

    assert {e["task"] for e in BEAT.values()} == {
        "monitoring.tasks.poll_due_sources",
        "monitoring.tasks.check_source_heartbeats",
        "monitoring.tasks.sweep",
    }
    assert BEAT["sweep"]["schedule"] == 30.0 and BEAT["poll-due-sources"]["schedule"] == 10.0
    routes = settings.CELERY_TASK_ROUTES
    assert routes["monitoring.tasks.score_*"]["queue"] == "scoring"
    for name in (tasks.score_new_mentions.name, tasks.detect_watch.name, escalate_signal.name):
        assert name.split(".")[-1].split("_")[0] in {"score", "detect", "escalate"}
