"""Message template pages: the form names bad placeholders, the preview escapes, approval needs a second manager."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playbooks.models import ApprovalState, MessageTemplate, PlaybookStatus
from tests.factories import ChecklistItemFactory, CrisisRoleFactory, MessageTemplateFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def playbook():
    playbook = PlaybookFactory(status=PlaybookStatus.ACTIVE)
    CrisisRoleFactory(playbook=playbook, name="Spokesperson")
    ChecklistItemFactory(playbook=playbook, title="Post the statement")
    MessageTemplateFactory(playbook=playbook, approval_state=ApprovalState.APPROVED, author=None)
    return playbook


def test_the_template_form_names_an_unknown_placeholder(client_for, manager, playbook):
    response = client_for(manager).post(
        reverse("playbooks:template_add", args=[playbook.pk]),
        {"kind": "reply", "channel": "x", "language": "en", "title": "Reply", "body": "Hi {first_name}"},
    )
    assert response.status_code == 200
    assert "Unknown placeholder {first_name}" in response.content.decode()
    assert playbook.templates.count() == 1


def test_preview_renders_sample_values_escaped(client_for, manager):
    response = client_for(manager).post(
        reverse("playbooks:template_preview"),
        {"body": "<script>alert(1)</script> {brand}: {issue} {bogus}", "language": "pl"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Acme Air: opóźnienia lotów z Warszawy" in html
    assert "Unknown placeholder {bogus}" in html


def test_preview_rejects_an_oversized_body(client_for, manager):
    response = client_for(manager).post(reverse("playbooks:template_preview"), {"body": "x" * 6000})
    assert response.status_code == 400 and "at most 5000" in response.content.decode()


def test_a_stored_script_in_a_template_shows_as_text(client_for, viewer, playbook):
    template = MessageTemplateFactory(
        playbook=playbook, title="<img src=x onerror=alert(1)>", body="<script>x</script>"
    )
    page = client_for(viewer).get(reverse("playbooks:template_detail", args=[template.pk])).content.decode()
    assert "<script>x</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_editing_an_approved_template_through_the_page(client_for, manager, manager2, playbook):
    approved = playbook.templates.get()
    data = {"kind": "holding", "channel": "all", "language": "en", "title": "Holding", "body": "New {issue}"}
    response = client_for(manager).post(reverse("playbooks:template_edit", args=[approved.pk]), data)
    new = MessageTemplate.objects.get(version=2)
    assert response["Location"] == reverse("playbooks:template_detail", args=[new.pk])
    assert new.approval_state == ApprovalState.PENDING

    own = client_for(manager).post(reverse("playbooks:template_approve", args=[new.pk]), follow=True)
    assert "another manager must approve" in own.content.decode()
    new.refresh_from_db()
    assert new.approval_state == ApprovalState.PENDING

    client_for(manager2).post(reverse("playbooks:template_approve", args=[new.pk]))
    new.refresh_from_db()
    approved.refresh_from_db()
    assert (new.approval_state, approved.approval_state) == ("approved", "superseded")
