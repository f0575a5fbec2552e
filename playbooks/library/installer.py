"""The seeded playbook library: one prepared scenario and playbook per ScenarioType.

The content lives as JSON in ``playbooks/library/`` (one file per scenario type, plus
``_roles.json`` with the crisis roles most playbooks share), so communications people can review
and change the words without touching code.

``install_library()`` is idempotent and never overwrites what a team has written:

* a missing Scenario is created; an existing one only gains what is missing (blank guidance or
  engagement approach filled in, library trigger terms and channels added to the team's own);
* a Playbook (version 1, active) with its roles, checklist and templates is created only for a
  scenario that has no playbook at all — once a team has a playbook for a scenario, even a
  retired one, the library leaves that scenario's playbooks alone.

Seeded templates are stored as **approved with no author and no approver** (and ``approved_at``
set): the library is the system's own starter text, reviewed in this repository rather than by a
second manager in the app. The author ≠ approver check constraint allows it (NULLs), and the pages
show such versions as "starter library". Editing one creates version 2, which needs a real
approval like any other.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record, snapshot
from playbooks.choices import ApprovalState, Phase, PlaybookStatus, ScenarioType, TemplateKind
from playbooks.constants import CHANNELS, LANGUAGES
from playbooks.message_templates.placeholders import placeholder_errors
from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario

LIBRARY_DIR = Path(__file__).resolve().parent


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"Playbook library file {path.name} cannot be read: {exc}") from exc


def _check(entry: dict[str, Any], name: str) -> None:
    """Fail loudly (naming the file) if a library entry would seed something invalid."""

    def bad(message: str) -> None:
        raise ImproperlyConfigured(f"Playbook library {name}: {message}")

    scenario, playbook = entry["scenario"], entry["playbook"]
    if scenario["type"] not in ScenarioType.values:
        bad(f"unknown scenario type {scenario['type']!r}")
    for code in scenario["trigger_terms"]:
        if code not in LANGUAGES:
            bad(f"unknown trigger-term language {code!r}")
    for channel in scenario["channels"]:
        if channel not in CHANNELS:
            bad(f"unknown channel {channel!r}")
    role_names = {role["name"] for role in playbook["roles"]}
    for item in playbook["checklist"]:
        if item["phase"] not in Phase.values:
            bad(f"checklist step {item['title']!r} has unknown phase {item['phase']!r}")
        if item.get("role") and item["role"] not in role_names:
            bad(f"checklist step {item['title']!r} names unknown role {item['role']!r}")
    for template in playbook["templates"]:
        if template["kind"] not in TemplateKind.values or template["language"] not in LANGUAGES:
            bad(f"template {template['title']!r} has an unknown kind or language")
        if template.get("channel", "all") not in CHANNELS:
            bad(f"template {template['title']!r} has unknown channel {template['channel']!r}")
        errors = placeholder_errors(template["body"])
        if errors:
            bad(f"template {template['title']!r}: {' '.join(errors)}")


@lru_cache(maxsize=1)
def library_entries() -> tuple[dict[str, Any], ...]:
    """Every library entry, validated, with shared role names resolved to full roles."""
    shared = {role["name"]: role for role in _read(LIBRARY_DIR / "_roles.json")}
    entries = []
    for path in sorted(LIBRARY_DIR.glob("*.json")):
        if path.name.startswith("_"):
            continue
        entry = _read(path)
        roles = []
        for role in entry["playbook"]["roles"]:
            if isinstance(role, str):
                if role not in shared:
                    raise ImproperlyConfigured(f"Playbook library {path.name}: unknown shared role {role!r}")
                role = shared[role]
            roles.append(role)
        entry["playbook"]["roles"] = roles
        _check(entry, path.name)
        entries.append(entry)
    return tuple(entries)


def _install_scenario(data: dict[str, Any]) -> tuple[Scenario, bool]:
    scenario = Scenario.objects.select_for_update().filter(type=data["type"]).first()
    if scenario is None:
        scenario = Scenario.objects.create(
            type=data["type"],
            name=data["name"],
            guidance=data["guidance"],
            engagement_approach=data["engagement_approach"],
            trigger_terms=data["trigger_terms"],
            channels=data["channels"],
        )
        audit_record(
            actor=None,
            action="scenario.installed",
            target=scenario,
            after=snapshot(scenario, ["type", "name", "trigger_terms", "channels"]),
        )
        return scenario, True

    before = snapshot(scenario, ["name", "guidance", "engagement_approach", "trigger_terms", "channels"])
    changed: list[str] = []
    for field in ("name", "guidance", "engagement_approach"):
        if not getattr(scenario, field).strip():
            setattr(scenario, field, data[field])
            changed.append(field)
    terms = {code: list(values) for code, values in (scenario.trigger_terms or {}).items()}
    for code, library_terms in data["trigger_terms"].items():
        have = terms.setdefault(code, [])
        known = {term.casefold() for term in have}
        for term in library_terms:
            if term.casefold() not in known:
                have.append(term)
                known.add(term.casefold())
    if terms != (scenario.trigger_terms or {}):
        scenario.trigger_terms = terms
        changed.append("trigger_terms")
    channels = list(scenario.channels or [])
    channels += [channel for channel in data["channels"] if channel not in channels]
    if channels != (scenario.channels or []):
        scenario.channels = channels
        changed.append("channels")
    if changed:
        scenario.save(update_fields=changed)
        audit_record(
            actor=None,
            action="scenario.library_merged",
            target=scenario,
            before=before,
            after=snapshot(
                scenario, ["name", "guidance", "engagement_approach", "trigger_terms", "channels"]
            ),
        )
    return scenario, bool(changed)


def _install_playbook(scenario: Scenario, data: dict[str, Any]) -> bool:
    if scenario.playbooks.exists():
        return False
    playbook = Playbook.objects.create(
        scenario=scenario,
        name=data["name"],
        description=data["description"],
        version=1,
        status=PlaybookStatus.ACTIVE,
    )
    roles = {}
    for order, role in enumerate(data["roles"], start=1):
        roles[role["name"]] = CrisisRole.objects.create(
            playbook=playbook, name=role["name"], responsibilities=role["responsibilities"], order=order
        )
    orders: dict[str, int] = {}
    items = []
    for item in data["checklist"]:
        orders[item["phase"]] = orders.get(item["phase"], 0) + 1
        items.append(
            ChecklistItem(
                playbook=playbook,
                phase=item["phase"],
                order=orders[item["phase"]],
                title=item["title"],
                description=item.get("description", ""),
                role=roles.get(item.get("role", "")),
                due_offset_minutes=item.get("due_offset_minutes"),
            )
        )
    ChecklistItem.objects.bulk_create(items)
    now = timezone.now()
    MessageTemplate.objects.bulk_create(
        MessageTemplate(
            playbook=playbook,
            kind=template["kind"],
            channel=template.get("channel", "all"),
            language=template["language"],
            title=template["title"],
            body=template["body"],
            approval_state=ApprovalState.APPROVED,
            approved_at=now,  # author and approved_by stay NULL: the starter library (see module doc)
        )
        for template in data["templates"]
    )
    audit_record(
        actor=None,
        action="playbook.installed",
        target=playbook,
        after={
            "scenario": scenario.type,
            "version": 1,
            "roles": len(roles),
            "checklist": len(items),
            "templates": len(data["templates"]),
        },
    )
    return True


@transaction.atomic
def install_library() -> int:
    """Install the starter library; return how many scenarios and playbooks were created or changed.

    Idempotent: a second run returns 0 and changes nothing.
    """
    changed = 0
    for entry in library_entries():
        scenario, scenario_changed = _install_scenario(entry["scenario"])
        changed += int(scenario_changed)
        changed += int(_install_playbook(scenario, entry["playbook"]))
    return changed
