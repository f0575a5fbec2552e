"""The monitoring write API: managers create and change watches and rules through the same services
as the pages (audit rows included); bad input is a 400 naming the field; lesser roles get 403."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crisisdesk.models import AuditRecord
from monitoring.models import Rule, RuleKind, Signal, Watch
from tests.conftest import PASSWORD
from tests.factories import RuleFactory, ScenarioFactory, WatchFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name, *args):
    return reverse(f"crisisdesk:{name}", args=args)


def test_a_manager_creates_a_watch_with_default_rules_and_an_audit_row(manager):
    scenario = ScenarioFactory(type="service_failure")
    response = api_for(manager).post(
        url("watch-list"),
        {
            "name": "Türk Hava Yolları",
            "include_terms": ["THY", " Türk Hava Yolları ", "THY", ""],
            "exclude_terms": ["job offer"],
            "languages": ["TR", "en"],
            "default_scenario": scenario.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    watch = Watch.objects.get(pk=data["id"])
    assert (watch.name, watch.include_terms, watch.languages, watch.default_scenario) == (
        "Türk Hava Yolları",
        ["THY", "Türk Hava Yolları"],
        ["tr", "en"],
        scenario,
    )
    assert watch.created_by == manager
    assert sorted(watch.rules.values_list("kind", flat=True)) == sorted(RuleKind.values)
    assert data["volume_24h"] == 0 and data["source_count"] == 0
    assert AuditRecord.objects.filter(action="watch.created", object_id=str(watch.pk), actor=manager).exists()


def test_a_watch_can_start_without_default_rules(manager):
    response = api_for(manager).post(
        url("watch-list"),
        {"name": "Żabka", "include_terms": ["żabka"], "with_default_rules": False},
        format="json",
    )
    assert response.status_code == 201
    assert not Rule.objects.filter(watch_id=response.json()["id"]).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"include_terms": ["acme"]}, "name"),
        ({"name": "Acme", "include_terms": []}, "include_terms"),
        ({"name": "Acme", "include_terms": ["x" * 101]}, "include_terms"),
        ({"name": "Acme", "include_terms": "acme"}, "include_terms"),
        ({"name": "Acme", "include_terms": ["acme"], "languages": ["english"]}, "languages"),
        ({"name": "Acme", "include_terms": ["acme"], "default_scenario": 999_999}, "default_scenario"),
        ({"name": "   ", "include_terms": ["acme"]}, "name"),
        ({"name": "Acme\x00", "include_terms": ["acme"]}, "name"),
    ],
)
def test_a_bad_watch_is_a_400_naming_the_field(manager, payload, field):
    response = api_for(manager).post(url("watch-list"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Watch.objects.exists()


def test_watch_names_are_unique_whatever_the_case(manager):
    WatchFactory(name="Acme Air")
    response = api_for(manager).post(
        url("watch-list"), {"name": "ACME AIR", "include_terms": ["acme"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["name"] == ["A watch with this name exists."]


def test_a_manager_changes_a_watch_and_the_audit_row_keeps_before_and_after(manager):
    watch = WatchFactory(name="Acme Air", include_terms=["acme"])
    response = api_for(manager).patch(
        url("watch-detail", watch.pk),
        {"include_terms": ["acme", "acmeair"], "is_active": False},
        format="json",
    )
    assert response.status_code == 200, response.json()
    watch.refresh_from_db()
    assert watch.include_terms == ["acme", "acmeair"] and watch.is_active is False
    record = AuditRecord.objects.get(action="watch.updated", object_id=str(watch.pk))
    assert record.before["include_terms"] == ["acme"] and record.after["include_terms"] == ["acme", "acmeair"]
    assert record.actor == manager


def test_patching_a_watch_to_its_own_name_is_fine_but_not_to_anothers(manager):
    watch = WatchFactory(name="Acme Air")
    WatchFactory(name="Other")
    client = api_for(manager)
    assert client.patch(url("watch-detail", watch.pk), {"name": "Acme Air"}, format="json").status_code == 200
    response = client.patch(url("watch-detail", watch.pk), {"name": "other"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize("persona", ["viewer", "responder"])
def test_lesser_roles_may_not_write_watches_or_rules(request, persona):
    user = request.getfixturevalue(persona)
    watch = WatchFactory(name="Acme Air")
    rule = RuleFactory(watch=watch)
    client = api_for(user)
    responses = [
        client.post(url("watch-list"), {"name": "New", "include_terms": ["new"]}, format="json"),
        client.patch(url("watch-detail", watch.pk), {"description": "mine now"}, format="json"),
        client.post(
            url("rule-list"), {"watch": watch.pk, "name": "R", "kind": "volume_spike"}, format="json"
        ),
        client.patch(url("rule-detail", rule.pk), {"min_count": 1}, format="json"),
        client.delete(url("rule-detail", rule.pk)),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert Watch.objects.count() == 1 and Rule.objects.filter(pk=rule.pk).exists()
    assert not AuditRecord.objects.exists()


def test_strangers_get_401_on_writes():
    watch = WatchFactory()
    client = APIClient()
    assert (
        client.post(url("watch-list"), {"name": "x", "include_terms": ["x"]}, format="json").status_code
        == 401
    )
    assert client.patch(url("watch-detail", watch.pk), {"description": "x"}, format="json").status_code == 401


def test_a_session_write_needs_the_csrf_token(manager):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(url("watch-list"), {"name": "Acme", "include_terms": ["acme"]}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_a_script_writes_with_basic_auth(manager):
    token = base64.b64encode(f"{manager.username}:{PASSWORD}".encode()).decode()
    response = APIClient().post(
        url("watch-list"),
        {"name": "Acme", "include_terms": ["acme"]},
        format="json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )
    assert response.status_code == 201


# --- Rules ------------------------------------------------------------------------------------------


def test_a_manager_adds_a_rule_through_the_service(manager):
    watch = WatchFactory(name="Acme Air")
    response = api_for(manager).post(
        url("rule-list"),
        {
            "watch": watch.pk,
            "name": "Loud negative voices",
            "kind": "high_reach_negative",
            "window_minutes": 30,
            "min_count": 1,
            "sensitivity": "more",
            "severity": 2,
            "params": {"min_reach": 50_000, "min_mentions": 2},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    rule = Rule.objects.get(pk=response.json()["id"])
    assert (rule.kind, rule.window_minutes, rule.severity, rule.params) == (
        "high_reach_negative",
        30,
        2,
        {"min_reach": 50_000, "min_mentions": 2},
    )
    assert (rule.baseline_hours, rule.cooldown_minutes) == (24, 60)  # defaults as on the page
    assert AuditRecord.objects.filter(action="rule.created", object_id=str(rule.pk), actor=manager).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_minutes": 7}, "window_minutes"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"window_minutes": 2**40}, "window_minutes"),
        ({"min_count": 0}, "min_count"),
        ({"kind": "vibes"}, "kind"),
        ({"severity": 9}, "severity"),
        ({"sensitivity": "paranoid"}, "sensitivity"),
        ({"watch": 999_999}, "watch"),
        ({"params": {"z": 3}}, "params"),
        ({"params": {"method": "astrology"}}, "params"),
        ({"params": {"min_expected_per_hour": -1}}, "params"),
        ({"params": {"min_expected_per_hour": True}}, "params"),
        ({"params": []}, "params"),
        ({"name": "Volume spike"}, "name"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field(manager, changes, field):
    watch = WatchFactory(name="Acme Air")
    RuleFactory(watch=watch, name="Volume spike")
    payload = {"watch": watch.pk, "name": "Spike 2", "kind": "volume_spike", **changes}
    response = api_for(manager).post(url("rule-list"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Rule.objects.count() == 1


def test_a_bad_parameter_is_named_inside_params(manager):
    watch = WatchFactory()
    response = api_for(manager).post(
        url("rule-list"),
        {
            "watch": watch.pk,
            "name": "Neg",
            "kind": "negative_spike",
            "params": {"min_share": 2, "min_reach": 5},
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["params"]) == {"min_share", "min_reach"}


def test_a_manager_tunes_a_rule_and_a_new_kind_drops_the_old_kinds_params(manager):
    rule = RuleFactory(kind="volume_spike", params={"method": "robust_z", "min_expected_per_hour": 2.0})
    client = api_for(manager)

    response = client.patch(
        url("rule-detail", rule.pk), {"min_count": 25, "sensitivity": "fewer"}, format="json"
    )
    assert response.status_code == 200, response.json()
    rule.refresh_from_db()
    assert (rule.min_count, rule.sensitivity, rule.kind) == (25, "fewer", "volume_spike")
    assert rule.params == {"method": "robust_z", "min_expected_per_hour": 2.0}

    response = client.patch(url("rule-detail", rule.pk), {"kind": "negative_spike"}, format="json")
    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.params == {"min_expected_per_hour": 2.0}
    audit = AuditRecord.objects.filter(action="rule.updated", object_id=str(rule.pk)).order_by("id")
    assert [a.after["kind"] for a in audit] == ["volume_spike", "negative_spike"]


def test_a_rule_that_never_fired_is_deleted_one_that_did_is_kept(manager):
    quiet = RuleFactory(name="Quiet")
    fired = RuleFactory(name="Fired")
    now = timezone.now()
    Signal.objects.create(
        rule=fired, watch=fired.watch, window_start=now, window_end=now, observed=9, expected=1, severity=3
    )
    client = api_for(manager)

    assert client.delete(url("rule-detail", quiet.pk)).status_code == 204
    refused = client.delete(url("rule-detail", fired.pk))

    assert refused.status_code == 409 and "deactivate" in refused.json()["detail"]
    assert list(Rule.objects.values_list("name", flat=True)) == ["Fired"]
    assert AuditRecord.objects.filter(action="rule.deleted", object_id=str(quiet.pk)).exists()
