"""The slice through a REAL Celery worker on Redis: ingest → scoring → buckets → signal → incident.

Every hop goes through a task message (ingest nudges scoring on commit, scoring nudges detection,
detection nudges escalation), and a lost message is recovered by ``sweep``. Each xdist worker
gets its own Redis database so parallel runs never steal each other's tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from crisisdesk.celery import app
from incidents.models import Incident
from monitoring.detection.defaults import default_rules_for
from monitoring.intake.ingest import ingest_items
from monitoring.models import Bucket, Mention, Rule, Signal, Watch
from monitoring.sources.base import Item
from tests.availability import redis_db_url, require_redis, xdist_worker_number
from tests.factories import MentionFactory, RuleFactory, SourceFactory, WatchFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
QUEUES = ["default", "ingest", "scoring", "notifications"]


def _reset_pools() -> None:
    """Forget broker connections made for the previous broker URL (kombu keeps them globally)."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker() -> Iterator[None]:
    require_redis()
    import redis
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping
    from celery.contrib.testing.worker import start_worker

    url = redis_db_url(2 + 2 * xdist_worker_number())
    redis.Redis.from_url(url).flushdb()
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    _reset_pools()
    app.conf.broker_url = url
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=QUEUES, shutdown_timeout=20):
            yield
    finally:
        _reset_pools()
        app.conf.broker_url, app.conf.broker_transport_options = saved
        redis.Redis.from_url(url).flushdb()


def wait_for(check: Callable[[], object], timeout: float = 40.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {check.__doc__ or check}")


def test_a_burst_becomes_an_incident_with_its_timeline_through_the_worker(worker):
    watch = WatchFactory(name="Acme Air", include_terms=["acme air"])
    for rule in default_rules_for(watch):
        if rule.kind == "volume_spike":
            rule.save()
    # A watch that has been running for a day: its volume rule has learned its baseline.
    learned = timezone.now() - timedelta(days=2)
    Watch.objects.filter(pk=watch.pk).update(created_at=learned)
    Rule.objects.filter(watch=watch).update(created_at=learned)
    source = SourceFactory(watch=watch, kind="webhook")
    now = timezone.now()
    items = [
        Item(
            external_id=f"burst-{i}",
            text=f"Acme Air check-in is down, flight cancelled, terrible service #{i}",
            published_at=now - timedelta(seconds=30 - i),
            author=f"traveller{i % 5}",
            author_reach=100 * i,
            url=f"https://social.example/p/{i}",
        )
        for i in range(25)
    ]

    ingest_items(source=source, items=items)  # on commit: score_new_mentions.delay()

    def incident_opened():
        """an incident for the burst"""
        return Incident.objects.filter(watch=watch).first()

    incident = wait_for(incident_opened)
    assert not Mention.objects.filter(watch=watch, state="new").exists()
    assert sum(Bucket.objects.filter(watch=watch).values_list("volume", flat=True)) == 25
    signal = Signal.objects.get(watch=watch)
    assert signal.incident_id == incident.pk and signal.processed_at is not None
    assert Mention.objects.filter(incident=incident).count() == 25
    phases = set(incident.timeline.values_list("phase", flat=True))
    assert phases == {"pre", "during"}
    assert incident.timeline.filter(phase="during", kind="detected").exists()


def test_the_sweeper_recovers_work_whose_messages_were_lost(worker):
    watch = WatchFactory(name="Beta Bank")
    source = SourceFactory(watch=watch)
    old = timezone.now() - timedelta(minutes=2)
    # Rows whose nudges never arrived: stored mentions nobody scored, a signal nobody escalated.
    MentionFactory.create_batch(3, source=source, fetched_at=old, published_at=old)
    rule = RuleFactory(watch=watch, name="Lost")
    lost = Signal.objects.create(
        rule=rule,
        watch=watch,
        detected_at=old,
        window_start=old - timedelta(minutes=15),
        window_end=old,
        observed=30,
        expected=2,
        severity=2,
    )

    from monitoring.tasks import sweep

    sweep.delay()

    def recovered():
        """the lost signal escalated and the stranded mentions scored"""
        lost.refresh_from_db()
        return lost.incident_id and not Mention.objects.filter(watch=watch, state="new").exists()

    wait_for(recovered)
    assert Incident.objects.get(watch=watch).severity == 2
    assert sum(Bucket.objects.filter(watch=watch).values_list("volume", flat=True)) == 3
