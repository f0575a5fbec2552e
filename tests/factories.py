"""factory_boy factories for the domain graph."""

from __future__ import annotations

import factory
from django.utils import timezone

from incidents.models import Incident
from monitoring.models import Mention, Rule, Source, Watch
from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario


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


class CrisisRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrisisRole

    playbook = factory.SubFactory(PlaybookFactory)
    name = factory.Sequence(lambda n: f"Crisis role {n}")
    responsibilities = "Keeps the response moving."


class ChecklistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChecklistItem

    playbook = factory.SubFactory(PlaybookFactory)
    phase = "during"
    title = factory.Sequence(lambda n: f"Checklist step {n}")
    due_offset_minutes = 60


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    """A draft template; pass ``approval_state="approved"`` (and ``author=None``) for a usable one."""

    class Meta:
        model = MessageTemplate

    playbook = factory.SubFactory(PlaybookFactory)
    kind = "holding"
    channel = "all"
    language = "en"
    title = factory.Sequence(lambda n: f"Holding statement {n}")
    body = "We are aware of reports about {issue} at {brand} and are looking into it. Next update: {next_update}."


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    watch = factory.SubFactory(WatchFactory)
    title = factory.LazyAttribute(lambda o: f"Spike of mentions about {o.watch.name}")
    severity = 3
