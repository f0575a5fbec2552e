"""Backfill: give every existing incident the mentions it owns.

    python manage.py attach_incident_mentions [--incident ID]

A management command and not a data migration, on purpose: which mentions an incident owns starts
at the crisis start, and that moment has exactly one definition, ``crisis_start_from`` in
``incidents.lifecycle.timeline`` (the earliest pre-crisis timeline event or the first signal). A
migration may not import app code, and copying that rule into SQL would make a second definition
that drifts. So migration ``incidents.0004`` only adds the columns and this command does the data,
through the same service code opening uses (``lifecycle.ownership``). Until it has run, ingest
attaches new mentions to an open incident from its detection (``owns_mentions_from`` is NULL).
Idempotent: run it after ``migrate`` on each deployment that has incidents; running it twice
attaches nothing new.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from incidents.lifecycle.backfill import incident_mentions_backfill
from incidents.models import Incident


class Command(BaseCommand):
    help = "Attach each incident's watch mentions from its crisis start until it resolved (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incident", type=int, help="Only this incident id.")

    def handle(self, *args: Any, **options: Any) -> None:
        incidents = Incident.objects.order_by("id")
        if options.get("incident"):
            incidents = incidents.filter(pk=options["incident"])
        total = 0
        for incident in incidents.iterator():
            attached = incident_mentions_backfill(incident=incident)
            total += attached
            self.stdout.write(f"incident #{incident.pk}: {attached} mention(s) attached")
        self.stdout.write(self.style.SUCCESS(f"{total} mention(s) attached"))
