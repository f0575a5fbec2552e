"""Playbook pages: every page checks the role; managers edit structure and land on the new version."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playbooks.library.installer import install_library
from playbooks.models import ApprovalState, Playbook, PlaybookStatus
from tests.factories import ChecklistItemFactory, CrisisRoleFactory, MessageTemplateFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def playbook():
    playbook = PlaybookFactory(status=PlaybookStatus.ACTIVE)
    CrisisRoleFactory(playbook=playbook, name="Spokesperson")
    ChecklistItemFactory(playbook=playbook, title="Post the statement")
    MessageTemplateFactory(playbook=playbook, approval_state=ApprovalState.APPROVED, author=None)
    return playbook


def read_urls(pb: Playbook) -> list[str]:
    return [
        reverse("playbooks:list"),
        reverse("playbooks:list") + "?status=retired",
        reverse("playbooks:detail", args=[pb.pk]),
        reverse("playbooks:template_detail", args=[pb.templates.get().pk]),
    ]


def write_gets(pb: Playbook) -> list[str]:
    return [
        reverse("playbooks:create"),
        reverse("playbooks:edit", args=[pb.pk]),
        reverse("playbooks:scenario_create"),
        reverse("playbooks:scenario_edit", args=[pb.scenario_id]),
        reverse("playbooks:role_add", args=[pb.pk]),
        reverse("playbooks:role_edit", args=[pb.roles.get().pk]),
        reverse("playbooks:checklist_add", args=[pb.pk]),
        reverse("playbooks:checklist_edit", args=[pb.checklist.get().pk]),
        reverse("playbooks:template_add", args=[pb.pk]),
        reverse("playbooks:template_edit", args=[pb.templates.get().pk]),
        reverse("playbooks:approvals"),
    ]


def write_posts(pb: Playbook) -> list[str]:
    template = pb.templates.get()
    return [
        reverse("playbooks:new_version", args=[pb.pk]),
        reverse("playbooks:activate", args=[pb.pk]),
        reverse("playbooks:retire", args=[pb.pk]),
        reverse("playbooks:role_remove", args=[pb.roles.get().pk]),
        reverse("playbooks:checklist_remove", args=[pb.checklist.get().pk]),
        reverse("playbooks:template_submit", args=[template.pk]),
        reverse("playbooks:template_approve", args=[template.pk]),
        reverse("playbooks:template_return", args=[template.pk]),
        reverse("playbooks:template_preview"),
    ]


def test_anonymous_visitors_are_sent_to_login(client, playbook):
    for url in read_urls(playbook) + write_gets(playbook):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize("persona", ["viewer", "responder"])
def test_viewers_and_responders_read_but_may_not_write(request, client_for, playbook, persona):
    client = client_for(request.getfixturevalue(persona))
    for url in read_urls(playbook):
        assert client.get(url).status_code == 200, url
    for url in write_gets(playbook):
        assert client.get(url).status_code == 403, url
    for url in write_posts(playbook):
        assert client.post(url, {"body": "x"}).status_code == 403, url
    assert Playbook.objects.count() == 1 and playbook.roles.count() == 1


def test_a_viewer_sees_no_edit_buttons(client_for, viewer, playbook):
    page = client_for(viewer).get(reverse("playbooks:detail", args=[playbook.pk])).content.decode()
    assert "Add a crisis role" not in page and "Retire" not in page


@pytest.mark.parametrize("persona", ["manager", "admin_member"])
def test_managers_and_admins_reach_every_page(request, client_for, playbook, persona):
    client = client_for(request.getfixturevalue(persona))
    for url in read_urls(playbook) + write_gets(playbook):
        assert client.get(url).status_code == 200, url


def test_nav_links_to_playbooks(client_for, viewer):
    page = client_for(viewer).get(reverse("playbooks:list")).content.decode()
    assert f'href="{reverse("playbooks:list")}"' in page


def test_a_manager_adds_a_role_and_lands_on_the_new_version(client_for, manager, playbook):
    client = client_for(manager)
    response = client.post(
        reverse("playbooks:role_add", args=[playbook.pk]),
        {"name": "Legal counsel", "responsibilities": "Reviews."},
    )
    new = Playbook.objects.get(status=PlaybookStatus.ACTIVE)
    assert new.version == 2
    assert response.status_code == 302 and response["Location"] == reverse("playbooks:detail", args=[new.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Saved as version 2" in page and "Legal counsel" in page


def test_a_checklist_step_shows_its_due_offset(client_for, manager, playbook):
    client = client_for(manager)
    role = playbook.roles.get()
    response = client.post(
        reverse("playbooks:checklist_add", args=[playbook.pk]),
        {"phase": "during", "title": "Brief support", "role": role.pk, "due_offset_minutes": 90},
    )
    page = client.get(response["Location"]).content.decode()
    assert "Brief support" in page and "within 90 minutes" in page


def test_the_scenario_form_validates_trigger_terms(client_for, manager, playbook):
    url = reverse("playbooks:scenario_edit", args=[playbook.scenario_id])
    bad = client_for(manager).post(url, {"name": "Outage", "trigger_terms": "klingon: qagh", "channels": "x"})
    assert bad.status_code == 200 and "unknown language" in bad.content.decode()
    good = client_for(manager).post(
        url, {"name": "Outage", "trigger_terms": "tr: kesinti, çöktü\npl: awaria", "channels": "x, website"}
    )
    assert good.status_code == 302
    playbook.scenario.refresh_from_db()
    assert playbook.scenario.trigger_terms == {"tr": ["kesinti", "çöktü"], "pl": ["awaria"]}
    assert playbook.scenario.channels == ["x", "website"]


def test_retire_and_new_version_buttons(client_for, manager, playbook):
    client = client_for(manager)
    response = client.post(reverse("playbooks:new_version", args=[playbook.pk]))
    new = Playbook.objects.get(version=2)
    assert response["Location"] == reverse("playbooks:detail", args=[new.pk])
    client.post(reverse("playbooks:retire", args=[new.pk]))
    assert not Playbook.objects.filter(status=PlaybookStatus.ACTIVE).exists()
    page = client.get(reverse("playbooks:list") + "?status=retired").content.decode()
    assert "v1" in page and "v2" in page


def test_the_detail_page_runs_a_fixed_number_of_queries(client_for, viewer, django_assert_max_num_queries):
    install_library()
    client = client_for(viewer)
    playbook = Playbook.objects.get(scenario__type="data_breach")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("playbooks:detail", args=[playbook.pk]))
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("playbooks:list")).status_code == 200


def test_a_refused_edit_shows_why_and_keeps_the_form(client_for, manager):
    draft = PlaybookFactory(status=PlaybookStatus.DRAFT)
    CrisisRoleFactory(playbook=draft, name="Legal counsel")
    response = client_for(manager).post(
        reverse("playbooks:role_add", args=[draft.pk]), {"name": "Legal counsel"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "already has a role named “Legal counsel”" in page and 'value="Legal counsel"' in page
    assert draft.roles.count() == 1
