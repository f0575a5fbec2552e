"""Opening: a signal opens an incident (or attaches to the open one) with its timeline."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.lifecycle.opening import open_or_attach
from incidents.models import Incident
from incidents.signals import incident_event
from monitoring.models import Mention, Signal
from tests.factories import (
    IncidentFactory,
    MentionFactory,
    RuleFactory,
    ScenarioFactory,
    SourceFactory,
    WatchFactory,
)

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def make_signal(
    watch, *, severity=3, minutes_ago=0, n=4, hint="service_failure", rule_name="Volume spike"
) -> Signal:
    now = timezone.now()
    rule = RuleFactory(watch=watch, name=rule_name)
    source = SourceFactory(watch=watch)
    signal = Signal.objects.create(
        rule=rule,
        watch=watch,
        detected_at=now - timedelta(seconds=5),
        window_start=now - timedelta(minutes=15 + minutes_ago),
        window_end=now - timedelta(minutes=minutes_ago),
        observed=40,
        expected=2,
        severity=severity,
        summary={"top_terms": ["outage"]},
    )
    mentions = [
        MentionFactory(
            source=source,
            text=f"Acme Air check-in down again #{i}",
            published_at=now - timedelta(minutes=10 - i),
            state="scored",
            sentiment=-0.2 * i,
            risk=0.1 * i,
            author_reach=50_000 * i,
            scenario_hint=hint,
        )
        for i in range(n)
    ]
    signal.mentions.add(*mentions)
    return signal


@pytest.fixture
def events():
    received = []

    def receiver(sender, incident, event, actor, **kwargs):
        received.append((incident.pk, event))

    incident_event.connect(receiver)
    yield received
    incident_event.disconnect(receiver)


@pytest.mark.django_db
def test_a_signal_opens_an_incident_with_its_build_up_and_detection(events):
    watch = WatchFactory(name="Acme Air")
    scenario = ScenarioFactory(type="service_failure", name="Service failure")
    signal = make_signal(watch)

    incident = open_or_attach(signal_id=signal.pk)

    assert incident is not None
    assert incident.title == "Acme Air: volume spike, service failure?"
    assert incident.scenario == scenario and incident.status == "detected" and incident.severity == 3
    signal.refresh_from_db()
    assert signal.incident == incident and signal.processed_at is not None
    assert "no incident was open for watch Acme Air" in signal.reason
    assert Mention.objects.filter(incident=incident).count() == 4
    timeline = list(incident.timeline.all())
    pre = [e for e in timeline if e.phase == "pre"]
    during = [e for e in timeline if e.phase == "during"]
    assert [e.kind for e in during] == ["detected"]
    assert pre[0].kind == "buildup_started" and pre[-1].kind == "signal"
    assert {e.kind for e in pre} == {"buildup_started", "notable_mention", "signal"}
    assert all(e.at < incident.detected_at for e in pre)
    assert events == [(incident.pk, "opened")]
    assert AuditRecord.objects.filter(action="incident.opened", object_id=str(incident.pk)).exists()


@pytest.mark.django_db
def test_escalating_the_same_signal_twice_does_nothing_the_second_time(events):
    signal = make_signal(WatchFactory())
    assert open_or_attach(signal_id=signal.pk) is not None
    count = signal.watch.incidents.get().timeline.count()
    assert open_or_attach(signal_id=signal.pk) is None
    assert Incident.objects.count() == 1
    assert signal.watch.incidents.get().timeline.count() == count
    assert len(events) == 1


@pytest.mark.django_db
def test_a_later_signal_attaches_says_why_and_raises_the_severity(events):
    watch = WatchFactory(name="Acme Air")
    first = open_or_attach(signal_id=make_signal(watch).pk)
    second = make_signal(watch, severity=1, rule_name="Negative spike")

    incident = open_or_attach(signal_id=second.pk)

    assert incident == first
    incident.refresh_from_db()
    assert incident.severity == 1
    second.refresh_from_db()
    assert second.incident == incident
    assert second.reason.startswith(f"Same watch Acme Air; incident #{incident.pk} open since ")
    kinds = list(incident.timeline.filter(phase="during").values_list("kind", flat=True))
    assert kinds == ["detected", "signal_attached", "severity_raised"]
    assert events == [(incident.pk, "opened"), (incident.pk, "severity:1")]


@pytest.mark.django_db
def test_a_resolved_incident_is_not_reopened_a_new_one_is():
    watch = WatchFactory()
    IncidentFactory(watch=watch, status="resolved")
    incident = open_or_attach(signal_id=make_signal(watch).pk)
    assert incident.status == "detected"
    assert Incident.objects.filter(watch=watch).count() == 2


@pytest.mark.django_db
def test_without_a_matching_scenario_row_the_title_still_says_what_happened():
    incident = open_or_attach(signal_id=make_signal(WatchFactory(name="Beta Bank"), hint="data_breach").pk)
    assert incident.title == "Beta Bank: volume spike, data breach?"
    assert incident.scenario is None and incident.scenario_hint == "data_breach"


@pytest.mark.postgres
@pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL (two real connections racing on the partial unique index)"
)
@pytest.mark.django_db(transaction=True)
def test_two_signals_racing_open_one_incident_and_both_attach():
    watch = WatchFactory()
    signals = [make_signal(watch, rule_name=f"rule {i}") for i in range(2)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(signal_id: int) -> None:
        try:
            barrier.wait()
            results.append(open_or_attach(signal_id=signal_id))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(s.pk,)) for s in signals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Incident.objects.filter(watch=watch).count() == 1
    incident = Incident.objects.get(watch=watch)
    assert {r.pk for r in results} == {incident.pk}
    assert Signal.objects.filter(incident=incident).count() == 2
