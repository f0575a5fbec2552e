"""``manage.py seed_demo``: the laptop demo's users, watch, drill source and rules, idempotently;
``--reset-drill`` restarts the drill; and it refuses what looks like a production database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from crisisdesk.models import AuditRecord
from crisisdesk.roles import ROLES, user_role
from incidents.models import Incident, TimelineEvent
from incidents.response.selectors import suggested_playbook
from monitoring.detection.defaults import default_rules_for
from monitoring.detection.learning import is_learning
from monitoring.models import Rule, RuleKind, Source, Watch
from monitoring.sources import get_connector
from tests.factories import IncidentFactory

ROOT = Path(__file__).resolve().parents[2]


def seed(*args: str) -> str:
    out = StringIO()
    # --force: the test database may be PostgreSQL; the laptop-mode guard has its own test below.
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_creates_one_user_per_role_with_the_printed_password() -> None:
    output = seed()

    for role in ROLES:
        assert f"{role:<10} password crisisdesk-{role}" in output
        user = authenticate(username=role, password=f"crisisdesk-{role}")
        assert user is not None, role
        assert user_role(user) == role
    assert User.objects.get(username="admin").is_staff


@pytest.mark.django_db
def test_it_seeds_the_acme_air_watch_with_a_drill_replay_and_rules() -> None:
    seed()

    watch = Watch.objects.get(name="Acme Air")
    assert {"acme air", "@acmeair", "#acmeair"} <= set(watch.include_terms)
    assert set(watch.languages) == {"en", "tr", "pl", "id", "ms"}
    source = Source.objects.get(watch=watch, kind="drill")
    assert source.is_active and source.poll_interval == 5
    assert source.config["recording"] == "acme_air.jsonl" and source.config["speed"] == 20.0
    # The drill connector accepts the config: the recording exists and the speed is valid.
    get_connector("drill").validate_config(source.config)

    # One rule of each kind, with the detection defaults the CrisisLex benchmark is tuned with.
    fields = (
        "name",
        "window_minutes",
        "baseline_hours",
        "min_count",
        "cooldown_minutes",
        "severity",
        "params",
    )
    seeded = {rule.kind: [getattr(rule, f) for f in fields] for rule in Rule.objects.filter(watch=watch)}
    defaults = {rule.kind: [getattr(rule, f) for f in fields] for rule in default_rules_for(None)}
    assert set(seeded) == set(RuleKind.values)
    assert seeded == defaults


@pytest.mark.django_db
def test_running_it_again_changes_nothing() -> None:
    seed()
    user = User.objects.get(username="manager")
    user.set_password("my-own-password-now")
    user.save()
    counts = [model.objects.count() for model in (User, Watch, Source, Rule, AuditRecord)]

    seed()

    assert [model.objects.count() for model in (User, Watch, Source, Rule, AuditRecord)] == counts
    assert authenticate(username="manager", password="my-own-password-now") is not None


@pytest.mark.django_db
def test_every_seeded_object_leaves_an_audit_row() -> None:
    seed()

    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"demo.user_created", "demo.watch_created", "source.drill_created", "demo.rule_created"} <= actions


@pytest.mark.django_db
def test_reset_drill_resolves_the_open_incident_and_rewinds_the_replay() -> None:
    seed()
    watch = Watch.objects.get(name="Acme Air")
    source = Source.objects.get(watch=watch, kind="drill")
    source.cursor = {"started_at": (timezone.now() - timedelta(hours=1)).isoformat(), "position": 150}
    source.save()
    Rule.objects.filter(watch=watch).update(last_fired_at=timezone.now())
    incident = IncidentFactory(watch=watch, status="detected")

    output = seed("--reset-drill")

    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert f"#{incident.pk}" in output
    assert TimelineEvent.objects.filter(incident=incident, kind="status:resolved").exists()
    source.refresh_from_db()
    assert source.cursor == {}
    assert source.next_poll_at <= timezone.now()
    assert not Rule.objects.filter(watch=watch, last_fired_at__isnull=False).exists()
    assert AuditRecord.objects.filter(action="source.drill_started", object_id=str(source.pk)).exists()
    assert not Incident.objects.filter(watch=watch, status__in=["detected", "acknowledged"]).exists()


def test_it_refuses_a_production_database_without_force(tmp_path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "DATABASE_URL")}
    env.update(
        DEBUG="false",
        DATABASE_URL="postgres://crisisdesk@db.invalid:5432/crisisdesk",
        CRISISDESK_VAR_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "runs only in laptop mode" in done.stderr
    assert "--force" in done.stderr


@pytest.mark.django_db
def test_the_drill_incident_suggests_the_outage_playbook() -> None:
    seed()

    incident = IncidentFactory(watch=Watch.objects.get(name="Acme Air"), scenario=None, scenario_hint="")
    suggestion = suggested_playbook(incident)
    assert suggestion is not None
    assert suggestion.scenario.type == "service_failure"


@pytest.mark.django_db
def test_the_drills_brand_posts_are_our_own_statements_not_chatter() -> None:
    """The recording's apology ("Yaşanan BT arızası için özür dileriz…") is @AcmeAir's: ours."""
    from monitoring.intake.ingest import ingest_items
    from monitoring.models import Bucket, Mention
    from monitoring.sources.drill import DrillConnector, load_recording, recording_path

    seed()
    watch = Watch.objects.get(name="Acme Air")
    assert watch.own_accounts == {"any": ["@AcmeAir"]}
    source = Source.objects.get(watch=watch, kind="drill")
    lines = load_recording(recording_path("acme_air.jsonl"))
    started = timezone.now() - timedelta(hours=1)
    items = [DrillConnector._item(line, started, 20.0) for line in lines]
    ingest_items(source=source, items=items)

    own = Mention.objects.filter(watch=watch, is_own=True)
    assert own.count() == sum(1 for line in lines if line.data.get("author") == "@AcmeAir") > 0
    assert own.filter(text__startswith="[Acme Air] Yaşanan BT arızası için özür dileriz").exists()
    assert (
        sum(Bucket.objects.filter(watch=watch).values_list("volume", flat=True)) == len(items) - own.count()
    )


@pytest.mark.django_db
def test_the_drill_watch_has_learned_its_baseline_so_the_drill_can_open_an_incident() -> None:
    seed()

    watch = Watch.objects.get(name="Acme Air")
    now = timezone.now()
    assert not any(is_learning(rule, watch.created_at, now) for rule in Rule.objects.filter(watch=watch))
    assert AuditRecord.objects.filter(action="demo.learning_skipped").count() == 1
