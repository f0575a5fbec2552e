"""Public copy is filled only from public fields a person wrote: {issue} comes from the incident's
public summary, never its internal title, and stays visibly unfilled (blocking review) until set."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from incidents.models import Draft, DraftStatus, TimelineEvent
from incidents.response.services import (
    ResponseError,
    draft_approve,
    draft_create_from_template,
    draft_publish,
    draft_submit,
    incident_set_public_summary,
    playbook_activate,
)
from playbooks.models import PlaybookStatus
from tests.factories import IncidentFactory, MessageTemplateFactory, PlaybookFactory, WatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(watch=WatchFactory(name="Acme Air"), title="Acme Air: volume spike")


@pytest.fixture
def template():
    playbook = PlaybookFactory(status=PlaybookStatus.ACTIVE)
    return MessageTemplateFactory(
        playbook=playbook,
        approval_state="approved",
        author=None,
        body="We know some of you are affected by {issue}. {brand} is on it.",
    )


def test_activation_never_puts_the_internal_title_in_public_copy(incident, template, responder):
    playbook_activate(incident=incident, playbook=template.playbook, by=responder)
    draft = Draft.objects.get(incident=incident)
    assert "volume spike" not in draft.body
    assert draft.body == "We know some of you are affected by {issue}. Acme Air is on it."
    with pytest.raises(ResponseError, match=r"Fill in \{issue\}"):
        draft_submit(draft=draft, by=responder)


def test_the_public_summary_fills_new_drafts_and_those_not_yet_submitted(incident, template, responder):
    playbook_activate(incident=incident, playbook=template.playbook, by=responder)
    incident_set_public_summary(
        incident=incident, summary="  check-in problems   at our airports ", by=responder
    )
    draft = Draft.objects.get(incident=incident)
    assert (
        draft.body
        == "We know some of you are affected by check-in problems at our airports. Acme Air is on it."
    )
    assert TimelineEvent.objects.filter(incident=incident, kind="public_summary").exists()
    later = draft_create_from_template(incident=incident, template=template, by=responder)
    assert "check-in problems at our airports" in later.body
    draft_submit(draft=draft, by=responder)
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.IN_REVIEW


def test_an_unfilled_draft_cannot_be_approved_or_published(incident, responder, manager):
    stuck = Draft.objects.create(incident=incident, body="About {issue}.", status=DraftStatus.IN_REVIEW)
    with pytest.raises(ResponseError, match="approving"):
        draft_approve(draft=stuck, by=manager)
    Draft.objects.filter(pk=stuck.pk).update(status=DraftStatus.APPROVED)
    with pytest.raises(ResponseError, match="publishing"):
        draft_publish(draft=stuck, by=responder, channel="x")


def test_a_viewer_may_not_set_it_and_the_page_escapes_it(incident, viewer, responder, client_for):
    with pytest.raises(PermissionDenied):
        incident_set_public_summary(incident=incident, summary="x", by=viewer)
    response = client_for(responder).post(
        f"/incidents/{incident.pk}/public-summary/", {"public_summary": "<b>delays</b>"}, follow=True
    )
    body = response.content.decode()
    assert "&lt;b&gt;delays&lt;/b&gt;" in body and "<b>delays</b>" not in body
    incident.refresh_from_db()
    assert incident.public_summary == "<b>delays</b>"
