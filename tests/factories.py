"""factory_boy factories for the domain graph."""

from __future__ import annotations

import factory
from django.utils import timezone

from incidents.models import Incident
from monitoring.models import Mention, Rule, Source, Watch
from playbooks.models import Playbook, Scenario


class WatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Watch
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    include_terms = factory.LazyAttribute(lambda o: [o.name.lower()])


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    watch = factory.SubFactory(WatchFactory)
    kind = "webhook"
    name = factory.Sequence(lambda n: f"source {n}")
    poll_interval = 60


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention

    source = factory.SubFactory(SourceFactory)
    watch = factory.SelfAttribute("source.watch")
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    text = "Flight delayed again, terrible service"
    author = factory.Sequence(lambda n: f"user{n}")
    published_at = factory.LazyFunction(timezone.now)


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    watch = factory.SubFactory(WatchFactory)
    kind = "volume_spike"
    name = factory.Sequence(lambda n: f"rule {n}")
    window_minutes = 15
    baseline_hours = 24
    min_count = 10
    cooldown_minutes = 60


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario
        django_get_or_create = ("type",)

    type = "service_failure"
    name = "Service failure"


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook

    scenario = factory.SubFactory(ScenarioFactory)
    name = factory.LazyAttribute(lambda o: f"{o.scenario.name} playbook")


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    watch = factory.SubFactory(WatchFactory)
    title = factory.LazyAttribute(lambda o: f"Spike of mentions about {o.watch.name}")
    severity = 3
