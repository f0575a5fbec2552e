"""Setup writes: watches, sources (drills included) and rules. Every change leaves an audit row.

Every write is authorized here (``PermissionDenied`` unless ``by`` may manage monitoring), whatever
page, endpoint or script calls it. Source configs are validated by their connector
(``validate_config``) here, not only in forms, so the API, the admin pages and management commands
cannot store a config the connector rejects. Secrets (webhook secret, API keys, client secrets)
never reach an audit row. What the current state refuses raises ``MonitoringRefusal``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.roles import MANAGE_MONITORING
from crisisdesk.types import Member
from monitoring import nudges
from monitoring.detection.defaults import default_rules_for
from monitoring.errors import MonitoringRefusal
from monitoring.intake.normalise import OWN_ACCOUNTS_ANY, handle_key
from monitoring.models import Rule, Source, SourceHealth, SourceKind, Watch
from monitoring.sources import get_connector
from monitoring.sources.drill import DEFAULT_SPEED, DrillConnector
from playbooks.models import Scenario

WATCH_FIELDS = [
    "name",
    "description",
    "include_terms",
    "exclude_terms",
    "languages",
    "own_accounts",
    "default_scenario",
    "is_active",
]
OWN_ACCOUNTS_PER_PLATFORM_MAX = 20
# A handle as platforms write it: "AcmeAir", "@AcmeAir", "@acmeair@mastodon.social", "acmeair.bsky.social".
_HANDLE = re.compile(r"^@?[\w][\w.\-]{0,99}(@[\w][\w.\-]{0,199})?$")
SOURCE_FIELDS = ["name", "kind", "config", "poll_interval", "is_active"]
RULE_FIELDS = [
    "name",
    "kind",
    "is_active",
    "window_minutes",
    "baseline_hours",
    "min_count",
    "sensitivity",
    "cooldown_minutes",
    "severity",
    "params",
]
# Config keys whose values are credentials: masked in audit rows, never rendered back into a page.
_SECRET_KEY = re.compile(r"secret|api_key|token|password", re.IGNORECASE)


def is_secret_config_key(name: str) -> bool:
    """Whether a connector config key holds a credential (masked in audit rows and forms)."""
    return bool(_SECRET_KEY.search(name))


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if isinstance(values.get("config"), dict):
        values["config"] = {
            key: ("•••" if is_secret_config_key(key) and value else value)
            for key, value in values["config"].items()
        }
    return values


def _source_snapshot(source: Source) -> dict[str, Any]:
    return _masked(snapshot(source, SOURCE_FIELDS))


def authorize(by: Member) -> None:
    """``PermissionDenied`` unless ``by`` is an active member who may manage monitoring."""
    if not (by is not None and getattr(by, "is_active", False) and by.has_perm(MANAGE_MONITORING)):
        raise PermissionDenied("Your role may not change watches, sources or rules.")


def _unchanged(instance: Model, changes: dict[str, Any]) -> bool:
    """Whether setting ``changes`` would leave ``instance`` as it is (then nothing is written)."""
    return all(getattr(instance, name) == value for name, value in changes.items())


# --- Watches --------------------------------------------------------------------------------------


@transaction.atomic
def watch_create(
    *,
    by: Member,
    name: str,
    description: str = "",
    include_terms: list[str] | None = None,
    exclude_terms: list[str] | None = None,
    languages: list[str] | None = None,
    own_accounts: dict[str, list[str]] | None = None,
    default_scenario: Scenario | None = None,
    with_default_rules: bool = True,
) -> Watch:
    """Create a watch, by default with one rule of every kind at the default thresholds.

    A watch without rules would collect mentions and never alert: the defaults make a new watch
    useful at once, and managers tune them on the rules page.
    """
    authorize(by)
    watch = Watch.objects.create(
        name=name,
        description=description,
        include_terms=list(include_terms or []),
        exclude_terms=list(exclude_terms or []),
        languages=list(languages or []),
        own_accounts=own_accounts_clean(own_accounts or {}),
        default_scenario=default_scenario,
        created_by=by,
    )
    audit_record(actor=by, action="watch.created", target=watch, after=snapshot(watch, WATCH_FIELDS))
    if with_default_rules:
        for rule in default_rules_for(watch):
            rule.save()
            audit_record(actor=by, action="rule.created", target=rule, after=snapshot(rule, RULE_FIELDS))
    return watch


def own_accounts_clean(value: object) -> dict[str, list[str]]:
    """The brand's own accounts as stored: ``{platform: [handle, …]}`` where a platform is a source
    kind or ``"any"``, handles trimmed and de-duplicated (case-insensitively, with or without ``@``),
    empty platforms dropped. Raises ``ValidationError`` (field ``own_accounts``) naming the problem.

    Posts by these authors are marked ours at ingest (``Mention.is_own``) and never count as chatter.
    """
    if not isinstance(value, dict):
        raise ValidationError({"own_accounts": "Give the accounts as {platform: [handle, …]}."})
    platforms = [OWN_ACCOUNTS_ANY, *SourceKind.values]
    cleaned: dict[str, list[str]] = {}
    for platform, handles in value.items():
        if platform not in platforms:
            raise ValidationError(
                {
                    "own_accounts": f"Unknown platform {str(platform)[:40]!r}: use one of {', '.join(platforms)}."
                }
            )
        if not isinstance(handles, list) or not all(isinstance(handle, str) for handle in handles):
            raise ValidationError({"own_accounts": f"{platform}: give a list of handles."})
        kept: list[str] = []
        keys: set[str] = set()
        for handle in (h.strip() for h in handles):
            if not handle:
                continue
            if not _HANDLE.match(handle):
                raise ValidationError(
                    {"own_accounts": f"{platform}: {handle[:60]!r} is not an account handle (e.g. @AcmeAir)."}
                )
            if handle_key(handle) not in keys:
                keys.add(handle_key(handle))
                kept.append(handle)
        if len(kept) > OWN_ACCOUNTS_PER_PLATFORM_MAX:
            raise ValidationError(
                {
                    "own_accounts": f"{platform}: at most {OWN_ACCOUNTS_PER_PLATFORM_MAX} accounts per platform."
                }
            )
        if kept:
            cleaned[platform] = kept
    return cleaned


@transaction.atomic
def watch_update(*, watch: Watch, by: Member, **changes: Any) -> Watch:
    """Change a watch's fields (any of ``WATCH_FIELDS``); no-op changes write nothing."""
    authorize(by)
    unknown = set(changes) - set(WATCH_FIELDS)
    if unknown:
        raise TypeError(f"watch_update got unknown fields: {', '.join(sorted(unknown))}")
    if "own_accounts" in changes:
        changes["own_accounts"] = own_accounts_clean(changes["own_accounts"] or {})
    watch = Watch.objects.select_for_update().get(pk=watch.pk)
    if not _unchanged(watch, changes):
        audited_update(
            instance=watch, by=by, action="watch.updated", changes=changes, audit_fields=WATCH_FIELDS
        )
    return watch


# --- Sources --------------------------------------------------------------------------------------


def source_config_clean(
    *, kind: str, config: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The connector's cleaned config; a blank credential keeps the previous one (forms never echo secrets)."""
    try:
        connector = get_connector(kind)
    except KeyError:
        raise ValidationError({"kind": f"Unknown source kind {kind!r}."}) from None
    merged = dict(config)
    for key, value in (previous or {}).items():
        if is_secret_config_key(key) and merged.get(key) in (None, "") and value:
            merged[key] = value
    return connector.validate_config(merged)


def _is_pull(kind: str) -> bool:
    return get_connector(kind).pull


@transaction.atomic
def source_create(
    *, watch: Watch, by: Member, kind: str, name: str, config: dict[str, Any], poll_interval: int = 300
) -> Source:
    """Add a source to ``watch``; ValidationError (naming the config field) when the connector refuses it."""
    authorize(by)
    cleaned = source_config_clean(kind=kind, config=config)
    if Source.objects.filter(watch=watch, name=name).exists():
        raise ValidationError({"name": f"{watch.name} already has a source named {name!r}."})
    source = Source.objects.create(
        watch=watch,
        kind=kind,
        name=name,
        config=cleaned,
        poll_interval=poll_interval,
        next_poll_at=timezone.now(),
    )
    audit_record(actor=by, action="source.created", target=source, after=_source_snapshot(source))
    if _is_pull(kind):
        nudges.poll_source(source.pk)
    return source


@transaction.atomic
def source_update(
    *,
    source: Source,
    by: Member,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    poll_interval: int | None = None,
) -> Source:
    """Change a source's name, config or interval. A changed config is polled again at once."""
    authorize(by)
    source = Source.objects.select_for_update().select_related("watch").get(pk=source.pk)
    before = _source_snapshot(source)
    fields: list[str] = []
    if name is not None and name != source.name:
        if Source.objects.filter(watch_id=source.watch_id, name=name).exclude(pk=source.pk).exists():
            raise ValidationError({"name": f"{source.watch.name} already has a source named {name!r}."})
        source.name = name
        fields.append("name")
    if config is not None:
        cleaned = source_config_clean(kind=source.kind, config=config, previous=source.config)
        if cleaned != source.config:
            source.config = cleaned
            source.next_poll_at = timezone.now()  # someone fixed or changed it: try it now
            fields += ["config", "next_poll_at"]
    if poll_interval is not None and poll_interval != source.poll_interval:
        source.poll_interval = poll_interval
        fields.append("poll_interval")
    if fields:
        source.save(update_fields=fields)
        audit_record(
            actor=by, action="source.updated", target=source, before=before, after=_source_snapshot(source)
        )
        if "config" in fields and source.is_active and _is_pull(source.kind):
            nudges.poll_source(source.pk)
    return source


def _set_active(source: Source, by: Member, active: bool) -> Source:
    source = Source.objects.select_for_update().get(pk=source.pk)
    if source.is_active == active:
        return source
    changes: dict[str, Any] = {"is_active": active}
    if active:
        changes["next_poll_at"] = timezone.now()
    audited_update(
        instance=source,
        by=by,
        action="source.resumed" if active else "source.paused",
        changes=changes,
        audit_fields=["is_active"],
    )
    return source


@transaction.atomic
def source_pause(*, source: Source, by: Member) -> Source:
    """Stop polling (or accepting pushes into) a source; its history and cursor stay."""
    authorize(by)
    return _set_active(source, by, False)


@transaction.atomic
def source_resume(*, source: Source, by: Member) -> Source:
    """Start a paused source again; a pull source is polled right away."""
    authorize(by)
    source = _set_active(source, by, True)
    if _is_pull(source.kind):
        nudges.poll_source(source.pk)
    return source


@transaction.atomic
def source_rotate_secret(*, source: Source, by: Member) -> Source:
    """Give a webhook source a new HMAC secret; the old one stops working at once."""
    authorize(by)
    source = Source.objects.select_for_update().get(pk=source.pk)
    source.secret = secrets.token_urlsafe(32)
    source.save(update_fields=["secret"])
    # The audit row says that it changed, never what it is.
    audit_record(actor=by, action="source.secret_rotated", target=source, after={"secret": "rotated"})
    return source


@transaction.atomic
def source_poll_now(*, source: Source, by: Member) -> Source:
    """Make an active pull source due now and enqueue its poll after commit (the poll claims a lease).

    Refused (``MonitoringRefusal``) for a push source and for a paused one.
    """
    authorize(by)
    source = Source.objects.select_for_update().get(pk=source.pk)
    if not _is_pull(source.kind):
        raise MonitoringRefusal(
            f"A {source.get_kind_display()} source is pushed to, never polled.", code="source_is_pushed"
        )
    if not source.is_active:
        raise MonitoringRefusal("The source is paused; resume it first.", code="source_paused")
    source.next_poll_at = timezone.now()
    source.save(update_fields=["next_poll_at"])
    audit_record(
        actor=by,
        action="source.poll_requested",
        target=source,
        after={"next_poll_at": source.next_poll_at.isoformat()},
    )
    nudges.poll_source(source.pk)
    return source


@transaction.atomic
def source_restart_drill(*, source: Source, by: Member) -> Source:
    """Play a drill source's recording again from the start (new external ids, so nothing is deduped away)."""
    authorize(by)
    if source.kind != SourceKind.DRILL:
        raise MonitoringRefusal("Only a drill replay source can be restarted.", code="not_a_drill")
    config = dict(source.config or {})
    source = drill_start(
        watch=source.watch,
        recording=config.get("recording", ""),
        speed=config.get("speed", 20.0),
        loop=bool(config.get("loop", False)),
        name=source.name,
        by=by,
    )
    nudges.poll_source(source.pk)
    return source


@transaction.atomic
def drill_start(
    *,
    watch: Watch,
    recording: str = "acme_air.jsonl",
    speed: float = DEFAULT_SPEED,
    loop: bool = False,
    name: str = "Drill replay",
    by: Member | None = None,
) -> Source:
    """Create or reset the drill source ``name`` on ``watch`` so it starts playing on the next poll.

    ``by`` is None when the system starts it (``seed_demo``, ``manage.py drill_replay``); a member
    must be allowed to manage monitoring.
    """
    if by is not None:
        authorize(by)
    config = DrillConnector().validate_config({"recording": recording, "speed": speed, "loop": loop})
    source = Source.objects.select_for_update().filter(watch=watch, name=name).first()
    fields = ["kind", "config", "cursor", "is_active", "health", "next_poll_at"]
    before = snapshot(source, fields) if source else {}
    if source is None:
        source = Source(watch=watch, name=name)
    elif source.kind != SourceKind.DRILL:
        raise ValidationError({"name": f"{name!r} on {watch.name} is a {source.kind} source, not a drill."})
    source.kind = SourceKind.DRILL
    source.config = config
    source.cursor = {}  # a new started_at: the replay gets new external ids, nothing is deduped away
    source.poll_interval = 5
    source.is_active = True
    source.health = SourceHealth.UNKNOWN
    source.consecutive_failures = 0
    source.last_error = ""
    source.lease_until = None
    source.next_poll_at = timezone.now()
    source.save()
    audit_record(
        actor=by,
        action="source.drill_started" if before else "source.drill_created",
        target=source,
        before=before,
        after=snapshot(source, fields),
    )
    return source


# --- Rules ----------------------------------------------------------------------------------------


def _rule_name_check(*, watch_id: int, name: str, rule_pk: int | None = None) -> None:
    rules = Rule.objects.filter(watch_id=watch_id, name=name)
    if rule_pk is not None:  # editing: the rule itself is no clash
        rules = rules.exclude(pk=rule_pk)
    if rules.exists():
        raise ValidationError({"name": "This watch already has a rule with this name."})


@transaction.atomic
def rule_create(*, watch: Watch, by: Member, **fields: Any) -> Rule:
    """Add a detection rule (fields: any of ``RULE_FIELDS``) to ``watch``."""
    authorize(by)
    rule = Rule(watch=watch, **fields)
    _rule_name_check(watch_id=watch.pk, name=rule.name)
    rule.save()
    audit_record(actor=by, action="rule.created", target=rule, after=snapshot(rule, RULE_FIELDS))
    return rule


@transaction.atomic
def rule_update(*, rule: Rule, by: Member, **changes: Any) -> Rule:
    """Change a rule's thresholds; the next detection run uses them. No-op changes write nothing."""
    authorize(by)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"rule_update got unknown fields: {', '.join(sorted(unknown))}")
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    _rule_name_check(watch_id=rule.watch_id, name=changes.get("name", rule.name), rule_pk=rule.pk)
    if not _unchanged(rule, changes):
        audited_update(instance=rule, by=by, action="rule.updated", changes=changes, audit_fields=RULE_FIELDS)
    return rule


@transaction.atomic
def rule_delete(*, rule: Rule, by: Member) -> None:
    """Delete a rule that never fired. One that did is refused (``MonitoringRefusal``) and should be
    deactivated instead: deleting it would take its signals (the evidence on past incidents) with it."""
    authorize(by)
    if rule.signals.exists():
        raise MonitoringRefusal(
            "This rule has fired before; deactivate it instead so its signals stay with their incidents.",
            code="rule_has_fired",
        )
    before = snapshot(rule, RULE_FIELDS)
    audit_record(actor=by, action="rule.deleted", target=rule, before=before)
    rule.delete()
