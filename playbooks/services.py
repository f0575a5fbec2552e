"""Writes for playbooks: scenarios, versions, crisis roles and checklists.

Versioning rules (DESIGN.md §2: activating a playbook snapshots it, so history must stay readable):

* A **draft** playbook is edited in place.
* Editing the *structure* (crisis roles, checklist) of an **active** playbook first creates a new
  version (``playbook_new_version``: roles, checklist and every template version are copied) which
  becomes active, and retires the old one. The edit is then applied to the copy; the caller gets the
  edited copy back and should follow ``result.playbook``.
* **Retired** versions are history and cannot be edited.
* Name/description edits and message templates do not bump the playbook: templates carry their own
  versions and approval (``playbooks.message_templates.services``).

Every write needs ``MANAGE_PLAYBOOKS`` (``PermissionDenied`` otherwise) and writes an audit row in
the same transaction; a change the rules refuse raises ``PlaybookError`` (a ``Refusal``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from crisisdesk.audit.services import audit_record, audited_update, snapshot
from crisisdesk.errors import Refusal
from crisisdesk.roles import MANAGE_PLAYBOOKS, ensure_permission
from crisisdesk.types import Member
from playbooks.choices import Phase, PlaybookStatus
from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario

SCENARIO_FIELDS = ["type", "name", "guidance", "engagement_approach", "trigger_terms", "channels"]
PLAYBOOK_FIELDS = ["scenario", "name", "description", "version", "status", "previous"]
ROLE_FIELDS = ["playbook", "name", "responsibilities", "order"]
ITEM_FIELDS = ["playbook", "phase", "order", "title", "description", "role", "due_offset_minutes"]

SCENARIO_EDITABLE = {"name", "guidance", "engagement_approach", "trigger_terms", "channels"}
PLAYBOOK_EDITABLE = {"name", "description"}
ROLE_EDITABLE = {"name", "responsibilities", "order"}
ITEM_EDITABLE = {"phase", "order", "title", "description", "role", "due_offset_minutes"}

_MAY_NOT = "Your role may not change playbooks."


class PlaybookError(Refusal):
    """A playbook change that is not allowed; the message is shown to the member as is."""


def check_editable(changes: dict[str, Any], allowed: set[str]) -> None:
    """Refuse (``TypeError``, a caller's bug) a change to a field outside ``allowed``."""
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(
            f"Cannot change {', '.join(sorted(unknown))}; editable: {', '.join(sorted(allowed))}."
        )


def changed_values(instance: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """The part of ``changes`` that really differs from ``instance`` (an unchanged edit writes nothing)."""
    return {name: value for name, value in changes.items() if getattr(instance, name) != value}


# --- Scenarios ------------------------------------------------------------------------------


@transaction.atomic
def scenario_create(
    *,
    by: Member,
    type: str,  # the model field's name: this is the scenario type
    name: str,
    guidance: str = "",
    engagement_approach: str = "",
    trigger_terms: dict[str, list[str]] | None = None,
    channels: list[str] | None = None,
) -> Scenario:
    """Create the scenario of ``type`` (one per type, enforced by the database)."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    if Scenario.objects.filter(type=type).exists():
        raise PlaybookError("That scenario type already exists; edit it instead.")
    scenario = Scenario.objects.create(
        type=type,
        name=name,
        guidance=guidance,
        engagement_approach=engagement_approach,
        trigger_terms=trigger_terms or {},
        channels=channels or [],
    )
    audit_record(
        actor=by, action="scenario.created", target=scenario, after=snapshot(scenario, SCENARIO_FIELDS)
    )
    return scenario


@transaction.atomic
def scenario_update(*, scenario: Scenario, by: Member, **changes: Any) -> Scenario:
    """Edit a scenario's guidance, engagement approach, trigger terms or channels in place."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    check_editable(changes, SCENARIO_EDITABLE)
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    changed = changed_values(scenario, changes)
    if changed:
        audited_update(
            instance=scenario, by=by, action="scenario.updated", changes=changed, audit_fields=SCENARIO_FIELDS
        )
    return scenario


# --- Playbooks and versions ----------------------------------------------------------------


def _next_version(scenario: Scenario) -> int:
    return (scenario.playbooks.aggregate(v=Max("version"))["v"] or 0) + 1


def _retire_active(scenario: Scenario, by: Member, *, except_pk: int | None = None) -> None:
    for old in Playbook.objects.select_for_update().filter(scenario=scenario, status=PlaybookStatus.ACTIVE):
        if old.pk == except_pk:
            continue
        audited_update(
            instance=old, by=by, action="playbook.retired", changes={"status": PlaybookStatus.RETIRED}
        )


@transaction.atomic
def playbook_create(*, scenario: Scenario, by: Member, name: str, description: str = "") -> Playbook:
    """A new playbook for ``scenario``: active if the scenario has none, otherwise a draft to activate."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    Scenario.objects.select_for_update().get(pk=scenario.pk)  # serialise version numbers per scenario
    has_active = scenario.playbooks.filter(status=PlaybookStatus.ACTIVE).exists()
    playbook = Playbook.objects.create(
        scenario=scenario,
        name=name,
        description=description,
        version=_next_version(scenario),
        status=PlaybookStatus.DRAFT if has_active else PlaybookStatus.ACTIVE,
        created_by=by,
    )
    audit_record(
        actor=by, action="playbook.created", target=playbook, after=snapshot(playbook, PLAYBOOK_FIELDS)
    )
    return playbook


@transaction.atomic
def playbook_update(*, playbook: Playbook, by: Member, **changes: Any) -> Playbook:
    """Rename or re-describe a playbook in place (not a structural change, so no new version)."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    check_editable(changes, PLAYBOOK_EDITABLE)
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    if playbook.status == PlaybookStatus.RETIRED:
        raise PlaybookError("This version is retired and kept as history; edit the current version.")
    changed = changed_values(playbook, changes)
    if changed:
        audited_update(
            instance=playbook, by=by, action="playbook.updated", changes=changed, audit_fields=PLAYBOOK_FIELDS
        )
    return playbook


def _copy_structure(
    source: Playbook, target: Playbook
) -> tuple[dict[int, CrisisRole], dict[int, ChecklistItem]]:
    """Copy roles, checklist and all template versions from ``source`` into ``target``.

    Each template family gets a new family id in the copy (``family`` + ``version`` is unique), with
    versions, approval states, authors and approvers preserved: an approved text stays approved.
    """
    role_map: dict[int, CrisisRole] = {}
    for role in source.roles.all():
        role_map[role.pk] = CrisisRole.objects.create(
            playbook=target, name=role.name, responsibilities=role.responsibilities, order=role.order
        )
    item_map: dict[int, ChecklistItem] = {}
    for item in source.checklist.all():
        item_map[item.pk] = ChecklistItem.objects.create(
            playbook=target,
            phase=item.phase,
            order=item.order,
            title=item.title,
            description=item.description,
            role=role_map.get(item.role_id) if item.role_id else None,
            due_offset_minutes=item.due_offset_minutes,
        )
    families: dict[uuid.UUID, uuid.UUID] = {}
    copies = []
    for template in source.templates.order_by("family", "version"):
        copies.append(
            MessageTemplate(
                playbook=target,
                family=families.setdefault(template.family, uuid.uuid4()),
                version=template.version,
                kind=template.kind,
                channel=template.channel,
                language=template.language,
                title=template.title,
                body=template.body,
                approval_state=template.approval_state,
                author_id=template.author_id,
                approved_by_id=template.approved_by_id,
                approved_at=template.approved_at,
            )
        )
    MessageTemplate.objects.bulk_create(copies)
    return role_map, item_map


def _new_version(
    playbook: Playbook, by: Member
) -> tuple[Playbook, dict[int, CrisisRole], dict[int, ChecklistItem]]:
    if playbook.status == PlaybookStatus.DRAFT:
        raise PlaybookError("A draft is edited in place; activate it instead of versioning it.")
    scenario = Scenario.objects.select_for_update().get(pk=playbook.scenario_id)
    _retire_active(scenario, by)
    new = Playbook.objects.create(
        scenario=scenario,
        name=playbook.name,
        description=playbook.description,
        version=_next_version(scenario),
        status=PlaybookStatus.ACTIVE,
        previous=playbook,
        created_by=by,
    )
    role_map, item_map = _copy_structure(playbook, new)
    audit_record(
        actor=by, action="playbook.new_version", target=new,
        before={"previous": playbook.pk, "version": playbook.version},
        after=snapshot(new, PLAYBOOK_FIELDS),
    )  # fmt: skip
    return new, role_map, item_map


@transaction.atomic
def playbook_new_version(*, playbook: Playbook, by: Member) -> Playbook:
    """Copy ``playbook`` (roles, checklist, templates) into version N+1, make it active, retire the old.

    Works from the active version, or from a retired one to restore it as the current version.
    """
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    locked = Playbook.objects.select_for_update().get(pk=playbook.pk)
    return _new_version(locked, by)[0]


@transaction.atomic
def playbook_activate(*, playbook: Playbook, by: Member) -> Playbook:
    """Make a draft (or an old retired version) the scenario's active playbook, retiring the current one."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    if playbook.status == PlaybookStatus.ACTIVE:
        return playbook
    scenario = Scenario.objects.select_for_update().get(pk=playbook.scenario_id)
    _retire_active(scenario, by, except_pk=playbook.pk)
    audited_update(
        instance=playbook, by=by, action="playbook.activated", changes={"status": PlaybookStatus.ACTIVE}
    )
    return playbook


@transaction.atomic
def playbook_retire(*, playbook: Playbook, by: Member) -> Playbook:
    """Retire a playbook version: it stays readable as history but is no longer offered."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    if playbook.status == PlaybookStatus.RETIRED:
        raise PlaybookError("This version is already retired.")
    audited_update(
        instance=playbook, by=by, action="playbook.retired", changes={"status": PlaybookStatus.RETIRED}
    )
    return playbook


def _editable(
    playbook: Playbook, by: Member
) -> tuple[Playbook, dict[int, CrisisRole], dict[int, ChecklistItem]]:
    """The version a structural edit applies to: a draft itself, or a new version of an active one."""
    locked = Playbook.objects.select_for_update().get(pk=playbook.pk)
    if locked.status == PlaybookStatus.RETIRED:
        raise PlaybookError("This version is retired and kept as history; edit the current version.")
    if locked.status == PlaybookStatus.ACTIVE:
        return _new_version(locked, by)
    return locked, {r.pk: r for r in locked.roles.all()}, {i.pk: i for i in locked.checklist.all()}


# --- Crisis roles ---------------------------------------------------------------------------


@contextmanager
def _unique_role_name(role: CrisisRole) -> Iterator[None]:
    """Turn the database's one-name-per-playbook constraint into a refusal (a savepoint keeps the
    transaction usable)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise PlaybookError(f"This playbook already has a role named “{role.name}”.") from exc


@transaction.atomic
def role_add(
    *, playbook: Playbook, by: Member, name: str, responsibilities: str = "", order: int | None = None
) -> CrisisRole:
    """Add a crisis role (on a new version if ``playbook`` is active); follow ``role.playbook``."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    target, _, _ = _editable(playbook, by)
    if order is None:
        order = (target.roles.aggregate(o=Max("order"))["o"] or 0) + 1
    role = CrisisRole(playbook=target, name=name.strip(), responsibilities=responsibilities, order=order)
    with _unique_role_name(role):
        role.save()
    audit_record(actor=by, action="crisisrole.added", target=role, after=snapshot(role, ROLE_FIELDS))
    return role


@transaction.atomic
def role_edit(*, role: CrisisRole, by: Member, **changes: Any) -> CrisisRole:
    """Change a role's name, responsibilities or order (on a new version if its playbook is active)."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    check_editable(changes, ROLE_EDITABLE)
    _, role_map, _ = _editable(role.playbook, by)
    role = role_map[role.pk]
    changed = changed_values(role, changes)
    if changed:
        with _unique_role_name(role):
            audited_update(
                instance=role, by=by, action="crisisrole.edited", changes=changed, audit_fields=ROLE_FIELDS
            )
    return role


@transaction.atomic
def role_remove(*, role: CrisisRole, by: Member) -> Playbook:
    """Remove a role (its checklist items become unassigned). Returns the playbook version edited."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    target, role_map, _ = _editable(role.playbook, by)
    victim = role_map[role.pk]
    audit_record(actor=by, action="crisisrole.removed", target=victim, before=snapshot(victim, ROLE_FIELDS))
    victim.delete()
    return target


# --- Checklist ------------------------------------------------------------------------------


def _role_in(target: Playbook, role: CrisisRole | None, role_map: dict[int, CrisisRole]) -> CrisisRole | None:
    if role is None:
        return None
    if role.pk not in role_map:
        raise PlaybookError("That crisis role belongs to another playbook.")
    return role_map[role.pk]


@transaction.atomic
def checklist_item_add(
    *,
    playbook: Playbook,
    by: Member,
    title: str,
    phase: str = Phase.DURING,
    description: str = "",
    role: CrisisRole | None = None,
    due_offset_minutes: int | None = None,
    order: int | None = None,
) -> ChecklistItem:
    """Add a checklist step (on a new version if ``playbook`` is active); follow ``item.playbook``."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    target, role_map, _ = _editable(playbook, by)
    if order is None:
        order = (target.checklist.filter(phase=phase).aggregate(o=Max("order"))["o"] or 0) + 1
    item = ChecklistItem.objects.create(
        playbook=target,
        phase=phase,
        order=order,
        title=title.strip(),
        description=description,
        role=_role_in(target, role, role_map),
        due_offset_minutes=due_offset_minutes,
    )
    audit_record(actor=by, action="checklistitem.added", target=item, after=snapshot(item, ITEM_FIELDS))
    return item


@transaction.atomic
def checklist_item_edit(*, item: ChecklistItem, by: Member, **changes: Any) -> ChecklistItem:
    """Change a checklist step (on a new version if its playbook is active)."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    check_editable(changes, ITEM_EDITABLE)
    target, role_map, item_map = _editable(item.playbook, by)
    item = item_map[item.pk]
    if "role" in changes:
        changes["role"] = _role_in(target, changes["role"], role_map)
    changed = changed_values(item, changes)
    if changed:
        audited_update(
            instance=item, by=by, action="checklistitem.edited", changes=changed, audit_fields=ITEM_FIELDS
        )
    return item


@transaction.atomic
def checklist_item_remove(*, item: ChecklistItem, by: Member) -> Playbook:
    """Remove a checklist step. Returns the playbook version edited."""
    ensure_permission(by, MANAGE_PLAYBOOKS, _MAY_NOT)
    target, _, item_map = _editable(item.playbook, by)
    victim = item_map[item.pk]
    audit_record(
        actor=by, action="checklistitem.removed", target=victim, before=snapshot(victim, ITEM_FIELDS)
    )
    victim.delete()
    return target
