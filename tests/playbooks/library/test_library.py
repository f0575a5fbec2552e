from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from crisisdesk.models import AuditRecord
from playbooks import services
from playbooks.library.installer import install_library, library_entries
from playbooks.message_templates import services as template_services
from playbooks.message_templates.placeholders import placeholder_errors, placeholders_in
from playbooks.message_templates.selectors import approved_templates_for
from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus, Scenario, ScenarioType

pytestmark = pytest.mark.django_db

LANGUAGES = {"en", "tr", "pl", "id"}


def test_it_installs_every_scenario_with_an_active_playbook():
    assert install_library() == 16  # 8 scenarios + 8 playbooks
    assert set(Scenario.objects.values_list("type", flat=True)) == set(ScenarioType.values)
    for scenario in Scenario.objects.all():
        playbook = scenario.playbooks.get()
        assert playbook.status == PlaybookStatus.ACTIVE and playbook.version == 1
        assert scenario.guidance and scenario.engagement_approach and scenario.channels
        assert {"en", "tr", "pl", "id", "ms"} <= set(scenario.trigger_terms)
        assert 4 <= playbook.roles.count() <= 6
        assert {"pre", "during", "post"} == set(playbook.checklist.values_list("phase", flat=True))
        assert playbook.checklist.filter(role__isnull=True).count() == 0
        assert playbook.checklist.filter(phase="during", due_offset_minutes__isnull=True).count() == 0


def test_every_scenario_has_starter_templates_in_four_languages():
    install_library()
    for playbook in Playbook.objects.select_related("scenario"):
        usable = approved_templates_for(playbook=playbook)
        for language in LANGUAGES:
            kinds = set(usable.filter(language=language).values_list("kind", flat=True))
            assert "holding" in kinds and "resolution" in kinds and "reply" in kinds, (playbook, language)
            assert kinds & {"apology", "update"}, (playbook, language)
        for template in usable:
            assert placeholder_errors(template.body) == []
            assert template.author is None and template.approved_by is None and template.approved_at


def test_engagement_approaches_fit_the_scenario():
    install_library()
    approach = dict(Scenario.objects.values_list("type", "engagement_approach"))
    assert "fix" in approach["product_defect"].lower() and "feedback" in approach["product_defect"].lower()
    assert "evidence" in approach["misinformation"].lower() and "legal" in approach["misinformation"].lower()
    assert "investigation" in approach["employee_misconduct"].lower()
    assert "speculation" in approach["data_breach"].lower() and "regulator" in approach["data_breach"].lower()
    assert "take the content down" in approach["offensive_content"].lower()
    assert "pause" in approach["external_event"].lower()


def test_it_is_idempotent():
    install_library()
    audit_rows = AuditRecord.objects.count()
    templates = MessageTemplate.objects.count()
    assert install_library() == 0
    assert AuditRecord.objects.count() == audit_rows and MessageTemplate.objects.count() == templates
    assert Playbook.objects.count() == 8


def test_it_never_overwrites_what_a_team_wrote(manager):
    install_library()
    scenario = Scenario.objects.get(type="data_breach")
    services.scenario_update(
        scenario=scenario, by=manager, guidance="Our own guidance.", trigger_terms={"en": ["our term"]}
    )
    playbook = scenario.playbooks.get()
    services.playbook_retire(playbook=playbook, by=manager)
    assert install_library() == 1  # the library's terms are merged back in; nothing else
    scenario.refresh_from_db()
    assert scenario.guidance == "Our own guidance."
    assert scenario.trigger_terms["en"][0] == "our term" and "leak" in scenario.trigger_terms["en"]
    assert scenario.playbooks.count() == 1  # a retired playbook is the team's decision


def test_the_command_reports_what_it_did():
    out = StringIO()
    call_command("install_playbooks", stdout=out)
    assert "16 scenario/playbook rows" in out.getvalue()
    out = StringIO()
    call_command("install_playbooks", stdout=out)
    assert "nothing changed" in out.getvalue()


def test_library_data_is_complete():
    entries = library_entries()
    assert {e["scenario"]["type"] for e in entries} == set(ScenarioType.values)
    for entry in entries:
        for template in entry["playbook"]["templates"]:
            assert placeholders_in(template["body"]), template["title"]  # starter text is filled per incident


def test_seeded_templates_can_be_edited_into_an_approved_new_version(manager, manager2):
    install_library()
    seed = MessageTemplate.objects.filter(language="pl", kind="holding").first()
    new = template_services.template_edit(template=seed, by=manager, body=seed.body + " Dziękujemy.")
    template_services.template_approve(template=new, by=manager2)
    seed.refresh_from_db()
    assert seed.approval_state == ApprovalState.SUPERSEDED
