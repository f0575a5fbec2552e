"""Setup writes: watches, sources and rules, each with its audit row, authorized for managers only."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crisisdesk.models import AuditRecord
from monitoring.intake.imports import services as import_services
from monitoring.models import Rule, Signal, Source, SourceHealth
from monitoring.setup import services
from tests.factories import RuleFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def audits(action: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action).order_by("id"))


def test_watch_create_writes_the_watch_its_default_rules_and_audit_rows(manager):
    watch = services.watch_create(
        by=manager, name="Acme Air", include_terms=["Acme Air", "acmeair"], languages=["tr", "pl"]
    )

    assert watch.created_by == manager
    assert set(watch.rules.values_list("kind", flat=True)) == {
        "volume_spike",
        "negative_spike",
        "high_reach_negative",
        "crisis_terms",
    }
    [created] = audits("watch.created")
    assert created.actor == manager and created.after["include_terms"] == ["Acme Air", "acmeair"]
    assert len(audits("rule.created")) == 4


def test_watch_update_records_before_and_after_and_skips_no_op_changes(manager):
    watch = WatchFactory(name="Acme Air", include_terms=["acme"])

    services.watch_update(watch=watch, by=manager, include_terms=["acme", "acme havayolları"])
    services.watch_update(watch=watch, by=manager, include_terms=["acme", "acme havayolları"])

    [row] = audits("watch.updated")
    assert row.before["include_terms"] == ["acme"]
    assert row.after["include_terms"] == ["acme", "acme havayolları"]
    watch.refresh_from_db()
    assert watch.include_terms == ["acme", "acme havayolları"]


def test_watch_update_refuses_an_unknown_field(manager):
    with pytest.raises(TypeError):
        services.watch_update(watch=WatchFactory(), by=manager, secret="x")


def test_source_create_refuses_a_config_its_connector_refuses_naming_the_field(manager):
    watch = WatchFactory()
    with pytest.raises(ValidationError) as caught:
        services.source_create(watch=watch, by=manager, kind="rss", name="Feed", config={"url": "ftp://nope"})

    assert "url" in caught.value.error_dict
    assert not Source.objects.exists() and not audits("source.created")


def test_source_create_stores_the_cleaned_config_and_enqueues_a_first_poll(
    manager, django_capture_on_commit_callbacks
):
    watch = WatchFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        source = services.source_create(
            watch=watch,
            by=manager,
            kind="rss",
            name="Alerts",
            config={"url": " https://example.org/feed "},
            poll_interval=600,
        )

    assert source.config == {"url": "https://example.org/feed"}
    assert source.poll_interval == 600
    assert len(callbacks) == 1  # poll_source.delay(source.pk) after commit
    [row] = audits("source.created")
    assert row.after["config"] == {"url": "https://example.org/feed"}


def test_credentials_never_reach_an_audit_row_and_a_blank_one_keeps_the_stored_one(manager):
    watch = WatchFactory()
    config = {"client_id": "abc", "client_secret": "s3cr3t-value", "query": "acme air"}
    source = services.source_create(watch=watch, by=manager, kind="reddit", name="Reddit", config=config)

    services.source_update(
        source=source, by=manager, config={**config, "client_secret": "", "query": "acmeair"}
    )

    source.refresh_from_db()
    assert source.config["client_secret"] == "s3cr3t-value"
    assert source.config["query"] == "acmeair"
    dumped = json.dumps(
        [[r.before, r.after] for r in AuditRecord.objects.filter(object_type="monitoring.source")],
        ensure_ascii=False,
    )
    assert "s3cr3t-value" not in dumped
    assert "•••" in dumped


def test_source_update_after_a_fix_makes_the_source_due_now(manager):
    source = SourceFactory(kind="rss", config={"url": "https://example.org/old"}, health=SourceHealth.FAILING)
    Source.objects.filter(pk=source.pk).update(next_poll_at=timezone.now() + timezone.timedelta(hours=6))

    services.source_update(source=source, by=manager, config={"url": "https://example.org/new"})

    source.refresh_from_db()
    assert source.next_poll_at <= timezone.now()
    [row] = audits("source.updated")
    assert row.before["config"]["url"] == "https://example.org/old"


def test_pause_and_resume_are_audited_and_resume_polls_again(manager, django_capture_on_commit_callbacks):
    source = SourceFactory(kind="rss", config={"url": "https://example.org/feed"})

    services.source_pause(source=source, by=manager)
    source.refresh_from_db()
    assert source.is_active is False
    with django_capture_on_commit_callbacks() as callbacks:
        services.source_resume(source=source, by=manager)

    source.refresh_from_db()
    assert source.is_active is True
    assert len(callbacks) == 1
    assert [r.action for r in AuditRecord.objects.order_by("id")] == ["source.paused", "source.resumed"]


def test_rotate_secret_changes_it_without_writing_it_down(manager):
    source = SourceFactory(kind="webhook")
    old = source.secret

    services.source_rotate_secret(source=source, by=manager)

    source.refresh_from_db()
    assert source.secret != old and len(source.secret) >= 40
    [row] = audits("source.secret_rotated")
    assert source.secret not in json.dumps(row.after) and old not in json.dumps(row.after)


def test_poll_now_refuses_a_push_source_and_enqueues_a_pull_one(manager, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError):
        services.source_poll_now(source=SourceFactory(kind="webhook"), by=manager)

    source = SourceFactory(kind="rss", config={"url": "https://example.org/feed"})
    with django_capture_on_commit_callbacks() as callbacks:
        services.source_poll_now(source=source, by=manager)
    assert len(callbacks) == 1
    assert audits("source.poll_requested")


def test_restart_drill_resets_the_cursor_so_the_recording_plays_again(manager):
    source = SourceFactory(
        kind="drill",
        name="Drill replay",
        config={"recording": "acme_air.jsonl", "speed": 50.0},
        cursor={"started_at": "2026-01-01T00:00:00+00:00", "line": 120},
    )

    services.source_restart_drill(source=source, by=manager)

    source.refresh_from_db()
    assert source.cursor == {}
    assert source.config["speed"] == 50.0
    assert audits("source.drill_started")


def test_rule_create_update_and_delete_are_audited(manager):
    watch = WatchFactory()
    rule = services.rule_create(
        watch=watch,
        by=manager,
        name="Negative burst",
        kind="negative_spike",
        window_minutes=30,
        min_count=8,
        params={"min_share": 0.6},
    )
    services.rule_update(rule=rule, by=manager, sensitivity="more", min_count=4)
    services.rule_delete(rule=rule, by=manager)

    assert not Rule.objects.filter(pk=rule.pk).exists()
    created, updated, deleted = (audits(a)[0] for a in ("rule.created", "rule.updated", "rule.deleted"))
    assert created.after["params"] == {"min_share": 0.6}
    assert updated.before["min_count"] == 8 and updated.after["min_count"] == 4
    assert deleted.before["name"] == "Negative burst"


def test_a_rule_that_fired_is_not_deleted(manager):
    rule = RuleFactory()
    now = timezone.now()
    Signal.objects.create(
        rule=rule, watch=rule.watch, window_start=now, window_end=now, observed=30, expected=2, severity=3
    )

    with pytest.raises(ValidationError):
        services.rule_delete(rule=rule, by=manager)
    assert Rule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_every_setup_write_refuses_a_role_that_may_not_manage_monitoring(request, role):
    member = request.getfixturevalue(role)
    watch = WatchFactory()
    feed = SourceFactory(watch=watch, kind="rss", config={"url": "https://example.org/feed"})
    drill = SourceFactory(watch=watch, kind="drill", config={"recording": "acme_air.jsonl", "speed": 20.0})
    rule = RuleFactory(watch=watch)
    writes = [
        lambda: services.watch_create(by=member, name="Mine", include_terms=["mine"]),
        lambda: services.watch_update(watch=watch, by=member, description="mine now"),
        lambda: services.source_create(watch=watch, by=member, kind="webhook", name="Hook", config={}),
        lambda: services.source_update(source=feed, by=member, poll_interval=60),
        lambda: services.source_pause(source=feed, by=member),
        lambda: services.source_resume(source=feed, by=member),
        lambda: services.source_poll_now(source=feed, by=member),
        lambda: services.source_rotate_secret(source=feed, by=member),
        lambda: services.source_restart_drill(source=drill, by=member),
        lambda: services.drill_start(watch=watch, by=member),
        lambda: services.rule_create(watch=watch, by=member, name="Mine", kind="volume_spike"),
        lambda: services.rule_update(rule=rule, by=member, min_count=1),
        lambda: services.rule_delete(rule=rule, by=member),
        lambda: import_services.import_source_for(watch=watch, by=member),
        lambda: import_services.import_upload_store(
            source=feed, fileobj=io.BytesIO(b"x"), filename="a.csv", by=member
        ),
        lambda: import_services.import_upload_retry(upload_id="0" * 32, by=member),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied):
            write()
    assert not AuditRecord.objects.exists()


def test_rule_names_are_unique_per_watch(manager):
    rule = RuleFactory(name="Volume")
    with pytest.raises(ValidationError):
        services.rule_create(watch=rule.watch, by=manager, name="Volume", kind="volume_spike")
