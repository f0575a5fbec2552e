"""Drafts: draft → in review → approved → published, author ≠ approver, edits after approval, and
the holding-statement suggestion when there are too many negative mentions to answer one by one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import Draft, Reply, TimelineEvent
from incidents.response.selectors import holding_suggestion
from incidents.response.services import (
    ResponseError,
    draft_approve,
    draft_create,
    draft_create_from_template,
    draft_edit,
    draft_publish,
    draft_return,
    draft_submit,
    playbook_activate,
)
from playbooks.models import MessageTemplate
from tests.factories import IncidentFactory, MentionFactory, WatchFactory
from tests.incidents.response.helpers import ready_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(
        watch=WatchFactory(name="Acme Air"),
        scenario=playbook.scenario,
        public_summary="delays to flights from Warsaw",
    )
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    return incident


@pytest.fixture
def holding(incident):
    return Draft.objects.get(incident=incident, kind="holding", language="en")


def filled(draft, by):
    return draft_edit(draft=draft, by=by, body=draft.body.replace("{next_update}", "14:00 CET"))


def test_the_whole_journey_records_who_and_when(holding, responder, manager, responder2):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_approve(draft=holding, by=manager)
    draft_publish(draft=holding, by=responder2, channel="x", url="https://x.example/acme/status/1")

    holding.refresh_from_db()
    assert holding.status == "published" and holding.author == responder and holding.approver == manager
    assert holding.published_by == responder2 and holding.published_channel == "x"
    assert holding.published_url == "https://x.example/acme/status/1" and holding.published_at
    kinds = list(
        TimelineEvent.objects.filter(incident=holding.incident, kind__startswith="draft:").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["draft:edited", "draft:submitted", "draft:approved", "draft:published"]
    published = TimelineEvent.objects.get(incident=holding.incident, kind="draft:published")
    assert published.links == ["https://x.example/acme/status/1"] and published.actor == responder2
    actions = set(
        AuditRecord.objects.filter(object_id=str(holding.pk), object_type="incidents.draft").values_list(
            "action", flat=True
        )
    )
    assert actions == {"draft.edited", "draft.submitted", "draft.approved", "draft.published"}


def test_unfilled_placeholders_block_submission(holding, responder):
    with pytest.raises(ResponseError, match=r"Fill in \{next_update\}"):
        draft_submit(draft=holding, by=responder)


def test_the_author_cannot_approve_their_own_words(holding, manager):
    filled(holding, manager)
    draft_submit(draft=holding, by=manager)
    with pytest.raises(ResponseError, match="someone else must approve"):
        draft_approve(draft=holding, by=manager)
    holding.refresh_from_db()
    assert holding.status == "in_review" and holding.approver is None


def test_the_submitter_of_untouched_template_text_counts_as_author(incident, manager):
    tr = Draft.objects.get(incident=incident, language="tr")
    draft_submit(draft=tr, by=manager)
    tr.refresh_from_db()
    assert tr.author == manager
    with pytest.raises(ResponseError, match="someone else"):
        draft_approve(draft=tr, by=manager)


def test_the_database_refuses_author_as_approver(holding, manager):
    Draft.objects.filter(pk=holding.pk).update(author=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        Draft.objects.filter(pk=holding.pk).update(approver=manager)


def test_a_responder_cannot_approve(holding, responder, responder2, client_for):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    with pytest.raises(PermissionDenied):
        draft_approve(draft=holding, by=responder2)
    url = f"/incidents/{holding.incident_id}/drafts/{holding.pk}/approve/"
    assert client_for(responder2).post(url).status_code == 403


def test_editing_an_approved_draft_sends_it_back_to_review(holding, responder, manager, manager2):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_approve(draft=holding, by=manager)
    draft_edit(draft=holding, by=manager2, body="We know. Next update at 15:00.")
    holding.refresh_from_db()
    assert holding.status == "in_review" and holding.approver is None and holding.approved_at is None
    assert holding.author == manager2
    assert "back to review" in TimelineEvent.objects.filter(kind="draft:edited").last().text
    with pytest.raises(ResponseError, match="Only an approved draft can be published"):
        draft_publish(draft=holding, by=responder, channel="x")
    draft_approve(draft=holding, by=manager)


def test_a_published_message_cannot_be_edited(holding, responder, manager):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_approve(draft=holding, by=manager)
    draft_publish(draft=holding, by=responder, channel="website")
    with pytest.raises(ResponseError, match="published"):
        draft_edit(draft=holding, by=responder, body="Something else")


def test_sending_back_returns_it_to_draft(holding, responder, manager):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_return(draft=holding, by=manager, reason="Name the airports")
    holding.refresh_from_db()
    assert holding.status == "draft"
    assert "Name the airports" in TimelineEvent.objects.get(kind="draft:returned").text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example/x", "not a url"])
def test_publishing_takes_only_http_links(holding, responder, manager, url, client_for):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_approve(draft=holding, by=manager)
    with pytest.raises(ValidationError) as exc:
        draft_publish(draft=holding, by=responder, channel="x", url=url)
    assert "url" in exc.value.message_dict
    page = client_for(responder).post(
        f"/incidents/{holding.incident_id}/drafts/{holding.pk}/publish/",
        {"channel": "x", "url": url},
        follow=True,
    )
    assert "Link to the published message: Enter an http(s) link." in page.content.decode()
    holding.refresh_from_db()
    assert holding.status == "approved"


def test_write_edit_submit_approve_and_publish_through_the_pages(incident, responder, manager, client_for):
    client = client_for(responder)
    response = client.post(
        f"/incidents/{incident.pk}/drafts/new/",
        {
            "kind": "update",
            "language": "pl",
            "channel": "facebook",
            "title": "Aktualizacja",
            "body": "Loty z Warszawy są opóźnione. Następna informacja o 14:00.",
        },
    )
    assert response.status_code == 302
    draft = Draft.objects.get(incident=incident, kind="update")
    assert response.url.endswith(f"#draft-{draft.pk}") and draft.author == responder
    client.post(
        f"/incidents/{incident.pk}/drafts/{draft.pk}/edit/",
        {
            "kind": "update",
            "language": "pl",
            "channel": "facebook",
            "title": "Aktualizacja 2",
            "body": draft.body,
        },
    )
    client.post(f"/incidents/{incident.pk}/drafts/{draft.pk}/submit/")
    client_for(manager).post(f"/incidents/{incident.pk}/drafts/{draft.pk}/approve/")
    client.post(
        f"/incidents/{incident.pk}/drafts/{draft.pk}/publish/",
        {"channel": "facebook", "url": "https://facebook.example/acme/posts/9"},
    )
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.approver) == ("Aktualizacja 2", "published", manager)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'href="https://facebook.example/acme/posts/9"' in html


def test_an_empty_draft_is_refused_naming_the_field(incident, responder, client_for):
    page = client_for(responder).post(
        f"/incidents/{incident.pk}/drafts/new/",
        {
            "kind": "update",
            "language": "en",
            "channel": "all",
            "title": "",
            "body": "   ",
        },
        follow=True,
    )
    assert "Body: Write the message." in page.content.decode()
    with pytest.raises(ValidationError) as exc:
        draft_create(incident=incident, by=responder, body="")
    assert "body" in exc.value.message_dict


def test_draft_text_is_escaped_on_the_page(incident, responder, client_for):
    draft_create(incident=incident, by=responder, body='<script>alert("x")</script>', title="<b>t</b>")
    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    assert '<script>alert("x")</script>' not in html and "&lt;script&gt;" in html


def negative_mentions(incident, n, *, minutes_ago=5):
    from monitoring.models import Source

    source = Source.objects.filter(watch=incident.watch).first()
    kwargs = {"source": source} if source else {"source__watch": incident.watch}
    return [
        MentionFactory(
            incident=incident,
            sentiment_label="negative",
            risk=0.5,
            published_at=timezone.now() - timedelta(minutes=minutes_ago),
            **kwargs,
        )
        for _ in range(n)
    ]


def test_the_holding_statement_is_suggested_when_negatives_flood(incident, responder, responder2, manager):
    # Three members who can answer: capacity 30 replies per window, so only the hourly volume counts here.
    negative_mentions(incident, 20)
    assert holding_suggestion(incident, playbook=incident.playbook) is None  # 20 is not more than 20
    negative_mentions(incident, 1)
    suggestion = holding_suggestion(incident, playbook=incident.playbook)
    assert suggestion.negative_last_hour == 21
    # The activation already made the holding draft: the page points to it instead of making another.
    assert suggestion.open_draft == Draft.objects.get(incident=incident, kind="holding", language="en")


def test_one_click_creates_the_holding_draft_when_there_is_none(responder, client_for):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario, watch=WatchFactory(name="Acme Air"))
    negative_mentions(incident, 25)
    client = client_for(responder)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="holding-suggestion"' in html and 'id="create-holding"' in html
    template = MessageTemplate.objects.get(
        playbook=playbook, kind="holding", language="en", approval_state="approved"
    )
    response = client.post(f"/incidents/{incident.pk}/drafts/from-template/", {"template": template.pk})
    draft = Draft.objects.get(incident=incident)
    assert response.url.endswith(f"#draft-{draft.pk}")
    assert draft.kind == "holding" and draft.template == template and draft.template_version == 2
    assert draft.body.startswith("We know about") and "Acme Air" in draft.body


def test_no_suggestion_once_a_holding_statement_is_published(incident, holding, responder, manager):
    negative_mentions(incident, 25)
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_approve(draft=holding, by=manager)
    draft_publish(draft=holding, by=responder, channel="x")
    assert holding_suggestion(incident, playbook=incident.playbook) is None


def test_the_suggestion_also_counts_what_the_team_can_answer(incident, responder, settings):
    import incidents.response.selectors as selectors_response

    # Older mentions (not in the last hour), more unanswered than 1 member × 10 replies per window.
    mentions = negative_mentions(incident, 11, minutes_ago=120)
    assert holding_suggestion(incident, playbook=incident.playbook).unanswered == 11
    assert selectors_response.REPLIES_PER_MEMBER_PER_WINDOW == 10
    Reply.objects.create(
        incident=incident, mention=mentions[0], text="Sorry, we are on it", replied_by=responder
    )
    assert holding_suggestion(incident, playbook=incident.playbook) is None


def test_a_template_that_is_not_approved_cannot_make_a_draft(incident, responder):
    pending = MessageTemplate.objects.get(kind="apology")
    with pytest.raises(ResponseError, match="approved"):
        draft_create_from_template(incident=incident, template=pending, by=responder)


def test_a_published_channel_reads_by_its_name_not_its_slug(holding, responder, manager, client_for):
    filled(holding, responder)
    draft_submit(draft=holding, by=responder)
    draft_approve(draft=holding, by=manager)
    draft_publish(draft=holding, by=responder, channel="x")
    assert TimelineEvent.objects.get(kind="draft:published").text.startswith("Published on X (Twitter):")
    html = client_for(responder).get(reverse("incidents:detail", args=[holding.incident_id])).content.decode()
    assert "published on <strong>X (Twitter)</strong>" in html
