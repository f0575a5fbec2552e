"""Seed the laptop demo: one user per role, the playbook library, and the "Acme Air" watch whose
drill replay builds into a crisis within a minute of ``make run``.

Idempotent: running it again changes nothing that exists (passwords included). ``--reset-drill``
restarts the drill: it resolves the demo watch's open incident, rewinds the drill source and clears
the rules' cooldowns, so a fresh incident opens on the next surge.

Laptop mode only: with DEBUG off and a database other than SQLite it refuses (demo passwords in a
production database would be a gift to an attacker) unless ``--force`` is given.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from crisisdesk.audit import audit_record, snapshot
from crisisdesk.roles import ROLES
from monitoring.models import Rule, RuleKind, Sensitivity, Severity, Source, SourceHealth, SourceKind, Watch

DEMO_WATCH = "Acme Air"
DEMO_SOURCE = "Acme Air drill"
DEMO_RECORDING = "acme_air.jsonl"
DEMO_SPEED = 20.0


def demo_password(role: str) -> str:
    return f"crisisdesk-{role}"


DEMO_WATCH_FIELDS: dict[str, Any] = {
    "description": "Demo: an airline whose IT outage grounds flights (drill replay of a recorded crisis).",
    "include_terms": ["acme air", "@acmeair", "#acmeair"],
    "languages": ["en", "tr", "pl", "id", "ms"],
}
DEMO_SOURCE_FIELDS: dict[str, Any] = {
    "kind": SourceKind.DRILL,
    "config": {"recording": DEMO_RECORDING, "speed": DEMO_SPEED},
    "poll_interval": 5,
}
# Used only when the detection module offers no ``default_rules_for(watch)`` of its own.
FALLBACK_RULES: list[dict[str, Any]] = [
    {
        "kind": RuleKind.VOLUME_SPIKE,
        "name": "Volume spike",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 10,
        "cooldown_minutes": 30,
        "severity": Severity.SEV3,
    },
    {
        "kind": RuleKind.NEGATIVE_SPIKE,
        "name": "Negative spike",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 8,
        "cooldown_minutes": 30,
        "severity": Severity.SEV3,
        "params": {"min_share": 0.5},
    },
    {
        "kind": RuleKind.HIGH_REACH_NEGATIVE,
        "name": "High-reach negative mention",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 1,
        "cooldown_minutes": 60,
        "severity": Severity.SEV2,
        "params": {"min_reach": 100_000},
    },
    {
        "kind": RuleKind.CRISIS_TERMS,
        "name": "Crisis-term hits",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 5,
        "cooldown_minutes": 30,
        "severity": Severity.SEV3,
        "params": {"min_hits": 5},
    },
]


@dataclass
class SeedReport:
    users_created: list[str]
    playbooks_installed: int | None
    watch_created: bool
    source_created: bool
    rules_created: list[str]


def _optional(dotted: str) -> Callable | None:
    """A function another part of CrisisDesk may provide (library, default rules, transitions)."""
    module_name, _, name = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise
    return getattr(module, name, None)


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
    watch, created = Watch.objects.get_or_create(name=DEMO_WATCH, defaults=DEMO_WATCH_FIELDS)
    if created:
        audit_record(
            actor=None, action="demo.watch_created", target=watch,
            after=snapshot(watch, ["name", "include_terms", "languages"]),
        )
    return watch, created


def seed_drill_source(watch: Watch) -> tuple[Source, bool]:
    source, created = Source.objects.get_or_create(watch=watch, name=DEMO_SOURCE, defaults=DEMO_SOURCE_FIELDS)
    if created:
        audit_record(
            actor=None, action="demo.source_created", target=source,
            after=snapshot(source, ["kind", "config", "poll_interval"]),
        )
    return source, created


def seed_rules(watch: Watch) -> list[str]:
    """The detection module's defaults when it offers them, else ours; existing rules stay as edited."""
    if watch.rules.exists():
        return []
    default_rules_for = _optional("monitoring.detection.default_rules_for")
    if default_rules_for is not None:
        rules = list(default_rules_for(watch))
        for rule in rules:
            if rule.pk is None:
                rule.save()
    else:
        rules = [
            Rule.objects.create(watch=watch, sensitivity=Sensitivity.BALANCED, **spec) for spec in FALLBACK_RULES
        ]
    for rule in rules:
        audit_record(
            actor=None, action="demo.rule_created", target=rule,
            after=snapshot(rule, ["kind", "name", "window_minutes", "min_count", "cooldown_minutes", "params"]),
        )
    return [rule.name for rule in rules]


@transaction.atomic
def seed_demo() -> SeedReport:
    """Create whatever part of the demo is missing; leave everything that exists alone."""
    users = seed_users()
    install_library = _optional("playbooks.library.install_library")
    installed = install_library() if install_library is not None else None
    watch, watch_created = seed_watch()
    _source, source_created = seed_drill_source(watch)
    rules = seed_rules(watch)
    return SeedReport(users, installed, watch_created, source_created, rules)


def _resolve_open_incidents(watch: Watch, by: User | None) -> list[int]:
    """Resolve the demo watch's open incident through the normal transitions, so it is audited."""
    from incidents.models import OPEN_STATUSES, Incident, Status

    transition = _optional("incidents.services.incident_transition")
    resolved = []
    for incident in Incident.objects.select_for_update().filter(watch=watch, status__in=OPEN_STATUSES):
        if transition is not None and by is not None:
            if incident.status == Status.DETECTED:
                incident = transition(incident=incident, to_status=Status.ACKNOWLEDGED, by=by, note="Drill reset")
            transition(incident=incident, to_status=Status.RESOLVED, by=by, note="Drill reset")
        else:
            from incidents.timeline import timeline_add

            before = snapshot(incident, ["status", "resolved_at"])
            incident.status = Status.RESOLVED
            incident.resolved_at = timezone.now()
            incident.resolved_by = by
            incident.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
            timeline_add(incident=incident, kind="status", text="Resolved: the demo drill was reset.", actor=by)
            audit_record(
                actor=by, action="incident.resolved", target=incident,
                before=before, after=snapshot(incident, ["status", "resolved_at"]),
            )
        resolved.append(incident.pk)
    return resolved


@transaction.atomic
def reset_drill() -> dict[str, Any]:
    """Restart the Acme Air drill from its first line, as if the demo had just started."""
    watch = Watch.objects.filter(name=DEMO_WATCH).first()
    if watch is None:
        raise CommandError(f"No watch named {DEMO_WATCH!r}: run seed_demo first.")
    admin = User.objects.filter(username="admin").first()
    resolved = _resolve_open_incidents(watch, admin)
    now = timezone.now()
    sources = list(Source.objects.select_for_update().filter(watch=watch, kind=SourceKind.DRILL))
    for source in sources:
        before = snapshot(source, ["cursor", "health", "next_poll_at"])
        # A new started_at gives the replayed lines new external ids, so nothing is deduped away.
        source.cursor = {}
        source.next_poll_at = now
        source.lease_until = None
        source.health = SourceHealth.UNKNOWN
        source.consecutive_failures = 0
        source.last_error = ""
        source.is_active = True
        source.save(update_fields=[
            "cursor", "next_poll_at", "lease_until", "health", "consecutive_failures", "last_error", "is_active",
        ])
        audit_record(
            actor=admin, action="demo.drill_reset", target=source,
            before=before, after=snapshot(source, ["cursor", "health", "next_poll_at"]),
        )
    for rule in Rule.objects.filter(watch=watch, last_fired_at__isnull=False):
        before = snapshot(rule, ["last_fired_at"])
        rule.last_fired_at = None  # the cooldown belongs to the drill that was reset
        rule.save(update_fields=["last_fired_at"])
        audit_record(actor=admin, action="demo.rule_cooldown_cleared", target=rule, before=before)
    return {"resolved_incidents": resolved, "sources_reset": len(sources)}


class Command(BaseCommand):
    help = "Seed the laptop demo (users per role, playbooks, the Acme Air drill). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-drill", action="store_true",
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
        if report.playbooks_installed is not None:
            out.write(f"  playbook library: {report.playbooks_installed} playbook(s) installed or updated")
        if report.watch_created or report.source_created:
            out.write(f"  watch {DEMO_WATCH!r} with a drill replay of {DEMO_RECORDING} at {DEMO_SPEED:g}x")
        if report.rules_created:
            out.write(f"  detection rules: {', '.join(report.rules_created)}")
        if options["reset_drill"]:
            result = reset_drill()
            out.write(
                f"  drill restarted; resolved incident(s): "
                f"{', '.join(f'#{pk}' for pk in result['resolved_incidents']) or 'none'}"
            )
        out.write("")
        out.write("  Demo logins (laptop mode only):")
        for role in ROLES:
            out.write(f"    {role:<10} password {demo_password(role)}")
