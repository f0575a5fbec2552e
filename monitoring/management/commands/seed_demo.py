"""Seed the laptop demo: one user per role, the playbook library, and the "Acme Air" watch whose
drill replay builds into a crisis within a minute of ``make run``.

Idempotent: running it again changes nothing that exists (passwords included). ``--reset-drill``
restarts the drill: it resolves the demo watch's open incident, rewinds the drill source and clears
the rules' cooldowns, so a fresh incident opens on the next surge.

Laptop mode only: with DEBUG off and a database other than SQLite it refuses (demo passwords in a
production database would be a gift to an attacker) unless ``--force`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.roles import ROLES
from crisisdesk.types import Member
from incidents.lifecycle.services import incident_transition
from incidents.models import OPEN_STATUSES, Incident, Status
from monitoring.detection.defaults import default_rules_for
from monitoring.models import Rule, Source, Watch
from monitoring.setup.services import drill_start
from playbooks.library.installer import install_library
from playbooks.models import Scenario, ScenarioType

DEMO_WATCH = "Acme Air"
DEMO_SOURCE = "Acme Air drill"
DEMO_RECORDING = "acme_air.jsonl"
DEMO_SPEED = 20.0
DEMO_SCENARIO = ScenarioType.SERVICE_FAILURE


def demo_password(role: str) -> str:
    return f"crisisdesk-{role}"


DEMO_WATCH_FIELDS: dict[str, Any] = {
    "description": "Demo: an airline whose IT outage grounds flights (drill replay of a recorded crisis).",
    "include_terms": ["acme air", "@acmeair", "#acmeair"],
    "languages": ["en", "tr", "pl", "id", "ms"],
    # The drill recording's brand posts come from "@AcmeAir": our statements, never chatter.
    "own_accounts": {"any": ["@AcmeAir"]},
}


@dataclass
class SeedReport:
    users_created: list[str]
    playbooks_installed: int
    watch_created: bool
    source_created: bool
    rules_created: list[str]


def ensure_laptop_mode(*, force: bool) -> None:
    """Refuse to put demo users into what looks like a production database."""
    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if not settings.DEBUG and not sqlite and not force:
        raise CommandError(
            "seed_demo creates users with published demo passwords; it runs only in laptop mode "
            "(SQLite, or DEBUG=true). Pass --force to seed this database anyway."
        )


def seed_users() -> list[str]:
    created = []
    for role in ROLES:
        user, is_new = User.objects.get_or_create(
            username=role, defaults={"email": f"{role}@crisisdesk.local", "is_staff": role == "admin"}
        )
        if is_new:
            user.set_password(demo_password(role))
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            audit_record(actor=None, action="demo.user_created", target=user, after={"role": role})
            created.append(role)
    return created


def seed_watch() -> tuple[Watch, bool]:
    # The drill is an IT outage: defaulting to that scenario lets the drill incident suggest its playbook.
    defaults = {**DEMO_WATCH_FIELDS, "default_scenario": Scenario.objects.filter(type=DEMO_SCENARIO).first()}
    watch, created = Watch.objects.get_or_create(name=DEMO_WATCH, defaults=defaults)
    if created:
        audit_record(
            actor=None,
            action="demo.watch_created",
            target=watch,
            after=snapshot(
                watch, ["name", "include_terms", "languages", "own_accounts", "default_scenario_id"]
            ),
        )
    elif not watch.own_accounts:  # a demo seeded before watches listed their own accounts
        audited_update(
            instance=watch,
            by=None,
            action="demo.watch_own_accounts",
            changes={"own_accounts": DEMO_WATCH_FIELDS["own_accounts"]},
        )
    return watch, created


def seed_drill_source(watch: Watch) -> bool:
    """The drill source, created through the setup service (validated, audited) when missing."""
    if Source.objects.filter(watch=watch, name=DEMO_SOURCE).exists():
        return False
    drill_start(watch=watch, recording=DEMO_RECORDING, speed=DEMO_SPEED, name=DEMO_SOURCE)
    return True


def seed_rules(watch: Watch) -> list[str]:
    """One rule of each kind with the detection defaults (the ones the benchmark tunes); edits stay."""
    if watch.rules.exists():
        return []
    rules = default_rules_for(watch)
    for rule in rules:
        rule.save()
        audit_record(
            actor=None,
            action="demo.rule_created",
            target=rule,
            after=snapshot(
                rule, ["kind", "name", "window_minutes", "min_count", "cooldown_minutes", "params"]
            ),
        )
    # The drill plays a watch that has been running for a while: it opens its incident within a
    # minute, so its rules must not still be learning a baseline (a new real watch does learn).
    learned_at = timezone.now() - timedelta(hours=max(int(rule.baseline_hours) for rule in rules))
    Rule.objects.filter(pk__in=[rule.pk for rule in rules]).update(created_at=learned_at)
    Watch.objects.filter(pk=watch.pk, created_at__gt=learned_at).update(created_at=learned_at)
    audit_record(
        actor=None,
        action="demo.learning_skipped",
        target=watch,
        after={"created_at": learned_at.isoformat()},
    )
    return [rule.name for rule in rules]


@transaction.atomic
def seed_demo() -> SeedReport:
    """Create whatever part of the demo is missing; leave everything that exists alone."""
    users = seed_users()
    installed = install_library()
    watch, watch_created = seed_watch()
    source_created = seed_drill_source(watch)
    rules = seed_rules(watch)
    return SeedReport(users, installed, watch_created, source_created, rules)


def _resolve_open_incidents(watch: Watch, by: Member) -> list[int]:
    """Resolve the demo watch's open incident through the normal transitions (timeline, audit, signal)."""
    resolved = []
    for incident in Incident.objects.filter(watch=watch, status__in=OPEN_STATUSES):
        if incident.status == Status.DETECTED:
            incident_transition(incident=incident, to_status=Status.ACKNOWLEDGED, by=by, note="Drill reset")
        incident_transition(incident=incident, to_status=Status.RESOLVED, by=by, note="Drill reset")
        resolved.append(incident.pk)
    return resolved


@transaction.atomic
def reset_drill() -> list[int]:
    """Restart the Acme Air drill from its first line, as if the demo had just started."""
    watch = Watch.objects.filter(name=DEMO_WATCH).first()
    if watch is None:
        raise CommandError(f"No watch named {DEMO_WATCH!r}: run seed_demo first.")
    admin = User.objects.filter(username="admin", is_active=True).first()
    if admin is None:
        raise CommandError("The demo user 'admin' is missing or inactive: it resolves the drill incident.")
    resolved = _resolve_open_incidents(watch, admin)
    # A rewound cursor gets a new started_at, so the replayed lines get new ids and nothing is deduped.
    drill_start(watch=watch, recording=DEMO_RECORDING, speed=DEMO_SPEED, name=DEMO_SOURCE, by=admin)
    for rule in Rule.objects.filter(watch=watch, last_fired_at__isnull=False):
        before = snapshot(rule, ["last_fired_at"])
        rule.last_fired_at = None  # the cooldown belongs to the drill that was reset
        rule.save(update_fields=["last_fired_at"])
        audit_record(actor=admin, action="demo.rule_cooldown_cleared", target=rule, before=before)
    return resolved


class Command(BaseCommand):
    help = "Seed the laptop demo (users per role, playbooks, the Acme Air drill). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-drill",
            action="store_true",
            help="Restart the Acme Air drill: resolve its open incident, rewind the replay, clear cooldowns.",
        )
        parser.add_argument(
            "--force", action="store_true", help="Seed even when this does not look like laptop mode."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_laptop_mode(force=options["force"])
        report = seed_demo()
        out = self.stdout
        out.write(self.style.SUCCESS("CrisisDesk demo is seeded."))
        if report.users_created:
            out.write(f"  created users: {', '.join(report.users_created)}")
        if report.playbooks_installed:
            out.write(f"  playbook library: {report.playbooks_installed} playbook(s) installed or updated")
        if report.watch_created or report.source_created:
            out.write(f"  watch {DEMO_WATCH!r} with a drill replay of {DEMO_RECORDING} at {DEMO_SPEED:g}x")
        if report.rules_created:
            out.write(f"  detection rules: {', '.join(report.rules_created)}")
        if options["reset_drill"]:
            resolved = reset_drill()
            out.write(
                f"  drill restarted; resolved incident(s): {', '.join(f'#{pk}' for pk in resolved) or 'none'}"
            )
        out.write("")
        out.write("  Demo logins (laptop mode only):")
        for role in ROLES:
            out.write(f"    {role:<10} password {demo_password(role)}")
