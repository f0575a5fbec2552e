"""An incident owns every mention of its watch from the crisis start until it resolves: opening
attaches the stored ones in one UPDATE, resolving stops it, reopening resumes it, and the
``attach_incident_mentions`` command backfills incidents opened before this existed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from incidents.lifecycle.opening import open_or_attach
from incidents.lifecycle.selectors import crisis_start
from incidents.lifecycle.services import incident_transition
from incidents.models import Incident, Status, TimelineEvent
from monitoring.intake.ingest import ingest_items
from monitoring.models import Mention
from monitoring.sources.base import Item
from tests.factories import IncidentFactory, MentionFactory, SourceFactory, WatchFactory
from tests.incidents.lifecycle.test_opening import make_signal

pytestmark = pytest.mark.django_db


@pytest.fixture
def watch():
    return WatchFactory(name="Acme Air", own_accounts={"any": ["@AcmeAir"]})


def stored(watch, *, minutes_ago: float, **kwargs) -> Mention:
    return MentionFactory(
        source=SourceFactory(watch=watch),
        published_at=timezone.now() - timedelta(minutes=minutes_ago),
        sentiment_label="negative",
        state="scored",
        **kwargs,
    )


def test_opening_attaches_every_stored_mention_from_the_crisis_start(watch):
    signal = make_signal(watch)  # its mentions start 10 minutes ago: the crisis start
    before = stored(watch, minutes_ago=60)
    during = [stored(watch, minutes_ago=m) for m in (9, 5, 1)]
    incident = open_or_attach(signal_id=signal.pk)
    incident.refresh_from_db()
    assert incident.owns_mentions_from == crisis_start(incident)
    assert set(Mention.objects.filter(incident=incident)) >= set(during)
    before.refresh_from_db()
    assert before.incident_id is None
    assert Mention.objects.filter(incident=incident).count() == 4 + len(during)  # signal's 4 + the rest


def test_an_own_post_stored_before_opening_becomes_our_statement_on_the_timeline(watch):
    signal = make_signal(watch)
    apology = stored(watch, minutes_ago=2, author="@AcmeAir", is_own=True, text="We are sorry.")
    incident = open_or_attach(signal_id=signal.pk)
    event = TimelineEvent.objects.get(incident=incident, kind="own_statement")
    assert event.mention == apology


def test_resolving_stops_attaching_and_reopening_resumes_with_the_gap(watch, manager):
    incident = open_or_attach(signal_id=make_signal(watch).pk)
    source = SourceFactory(watch=watch)
    incident_transition(incident=incident, to_status=Status.ACKNOWLEDGED, by=manager)
    incident_transition(incident=incident, to_status=Status.RESOLVED, by=manager)
    ingest_items(
        source=source,
        items=[Item(external_id="late", text="Acme Air still broken", published_at=timezone.now())],
    )
    late = Mention.objects.get(external_id="late")
    assert late.incident_id is None
    incident_transition(incident=incident, to_status=Status.RESPONDING, by=manager)
    late.refresh_from_db()
    assert late.incident_id == incident.pk
    ingest_items(
        source=source, items=[Item(external_id="later", text="Acme Air?", published_at=timezone.now())]
    )
    assert Mention.objects.get(external_id="later").incident_id == incident.pk


def test_the_backfill_command_attaches_from_the_crisis_start_until_resolution_and_is_idempotent(watch):
    now = timezone.now()
    incident = IncidentFactory(
        watch=watch,
        status=Status.RESOLVED,
        first_signal_at=now - timedelta(hours=3),
        detected_at=now - timedelta(hours=2),
        resolved_at=now - timedelta(hours=1),
    )
    too_early = stored(watch, minutes_ago=200)
    owned = [stored(watch, minutes_ago=m) for m in (170, 100, 70)]
    own = stored(watch, minutes_ago=90, is_own=True, author="@AcmeAir")
    after = stored(watch, minutes_ago=30)
    call_command("attach_incident_mentions", stdout=open("/dev/null", "w"))  # noqa: SIM115
    incident.refresh_from_db()
    assert incident.owns_mentions_from == now - timedelta(hours=3)
    assert set(Mention.objects.filter(incident=incident)) == {*owned, own}
    assert Mention.objects.get(pk=too_early.pk).incident_id is None
    assert Mention.objects.get(pk=after.pk).incident_id is None
    assert TimelineEvent.objects.filter(incident=incident, kind="own_statement").count() == 1
    call_command("attach_incident_mentions", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert TimelineEvent.objects.filter(incident=incident, kind="own_statement").count() == 1


def test_an_open_incident_is_backfilled_to_now(watch):
    incident = IncidentFactory(watch=watch, detected_at=timezone.now() - timedelta(hours=1))
    owned = stored(watch, minutes_ago=5)
    call_command("attach_incident_mentions", "--incident", str(incident.pk), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Mention.objects.get(pk=owned.pk).incident_id == incident.pk
    assert Incident.objects.get(pk=incident.pk).owns_mentions_from == incident.detected_at


ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.postgres
@pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL (an ingest and an opening racing on two connections)"
)
@pytest.mark.django_db(transaction=True)
def test_a_mention_stored_while_the_incident_opens_is_never_left_out():
    """The ingest's transaction is still open (it looked up "no incident") when the opening starts:
    the opening waits on the watch row's lock, so its UPDATE sees the committed mention."""
    watch = WatchFactory(name="Racing Air")
    signal = make_signal(watch)
    source = SourceFactory(watch=watch, kind="webhook")
    stored_not_committed, opened = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            with transaction.atomic():
                ingest_items(
                    source=source,
                    items=[
                        Item(external_id="mid-race", text="Racing Air is down", published_at=timezone.now())
                    ],
                )
                stored_not_committed.set()
                opened.wait(timeout=1.0)  # the opening must be blocked, not finished
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def open_incident() -> None:
        try:
            stored_not_committed.wait(timeout=5)
            open_or_attach(signal_id=signal.pk)
            opened.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest), threading.Thread(target=open_incident)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    incident = Incident.objects.get(watch=watch)
    assert Mention.objects.get(external_id="mid-race").incident_id == incident.pk
