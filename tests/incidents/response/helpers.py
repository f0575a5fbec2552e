"""Builders for the working-an-incident tests: a playbook with roles, a checklist and templates."""

from __future__ import annotations

from playbooks.models import Playbook
from tests.factories import (
    ChecklistItemFactory,
    CrisisRoleFactory,
    MessageTemplateFactory,
    PlaybookFactory,
    ScenarioFactory,
)


def ready_playbook(scenario_type: str = "service_failure") -> Playbook:
    """An active playbook: two crisis roles, a checklist in every phase, and templates in every approval state."""
    scenario = ScenarioFactory(type=scenario_type, name=scenario_type.replace("_", " ").capitalize())
    playbook = PlaybookFactory(scenario=scenario, name=f"{scenario.name} response")
    lead = CrisisRoleFactory(
        playbook=playbook, name="Incident lead", responsibilities="Runs the response.", order=0
    )
    spokes = CrisisRoleFactory(
        playbook=playbook, name="Spokesperson", responsibilities="Speaks for us.", order=1
    )
    ChecklistItemFactory(
        playbook=playbook, phase="pre", order=0, title="Confirm the facts", role=lead, due_offset_minutes=15
    )
    ChecklistItemFactory(
        playbook=playbook,
        phase="during",
        order=0,
        title="Publish a holding statement",
        role=spokes,
        due_offset_minutes=60,
    )
    ChecklistItemFactory(
        playbook=playbook, phase="post", order=0, title="Write the review", role=None, due_offset_minutes=None
    )
    old = MessageTemplateFactory(
        playbook=playbook,
        kind="holding",
        language="en",
        version=1,
        title="Holding v1",
        approval_state="superseded",
    )
    MessageTemplateFactory(
        playbook=playbook,
        family=old.family,
        kind="holding",
        language="en",
        version=2,
        title="Holding statement about {brand}",
        approval_state="approved",
        body="We know about {issue} at {brand}. Next update: {next_update}.",
    )
    MessageTemplateFactory(
        playbook=playbook,
        kind="holding",
        language="tr",
        title="Bekleme açıklaması",
        approval_state="approved",
        body="{brand} olarak {issue} konusunu inceliyoruz.",
    )
    MessageTemplateFactory(
        playbook=playbook,
        kind="apology",
        language="en",
        title="Apology (awaiting approval)",
        approval_state="pending",
        body="Sorry about {issue}.",
    )
    return playbook
