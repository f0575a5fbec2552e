"""Writing the post-crisis review, its action items and KPI refresh; closing requires a review."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crisisdesk.models import AuditRecord
from incidents.lifecycle.services import (
    TransitionError,
    incident_acknowledge,
    incident_resolve,
    incident_transition,
)
from incidents.models import ActionItem, Incident, Reply, Review, Status, TimelineEvent
from incidents.review.services import (
    ReviewError,
    action_item_add,
    action_item_set_done,
    review_recompute_kpis,
    review_write,
)
from incidents.signals import incident_event
from tests.factories import IncidentFactory, MentionFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    received = []

    def receiver(sender, incident, event, actor, **kwargs):
        received.append(event)

    incident_event.connect(receiver)
    yield received
    incident_event.disconnect(receiver)


@pytest.fixture
def resolved(responder) -> Incident:
    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)
    incident_resolve(incident=incident, by=responder)
    return incident


def test_a_responder_writes_the_review_with_kpis_a_post_event_and_an_audit_row(resolved, responder, events):
    review = review_write(
        incident=resolved,
        by=responder,
        summary="Baggage system outage at IST; we answered within the hour.",
        went_well="Holding statement in Turkish within 20 minutes.",
        went_badly="Nobody owned Polish replies.",
        lessons="Name a reply owner per language.",
    )

    assert review.author == responder and review.incident == resolved
    assert review.kpis["time_to_acknowledge"]["status"] == "ok"
    assert review.kpis["time_to_detect"]["display"] == "—"  # opened by hand: no pre-crisis signal
    event = TimelineEvent.objects.get(incident=resolved, kind="review:written")
    assert event.phase == "post" and event.actor == responder
    audit = AuditRecord.objects.get(action="review.written")
    assert audit.actor == responder and audit.object_id == str(review.pk)
    assert audit.after["lessons"] == "Name a reply owner per language." and audit.before == {}
    assert events[-1] == "review:written"


def test_rewriting_updates_it_and_records_what_it_said_before(resolved, responder, responder2):
    review_write(incident=resolved, by=responder, summary="First draft")
    review = review_write(
        incident=resolved, by=responder2, summary="Better summary", lessons="Ćwiczyć częściej"
    )

    assert Review.objects.count() == 1
    assert review.summary == "Better summary" and review.author == responder  # the first author stays
    audit = AuditRecord.objects.get(action="review.updated")
    assert audit.actor == responder2
    assert (audit.before["summary"], audit.after["summary"]) == ("First draft", "Better summary")
    assert TimelineEvent.objects.filter(incident=resolved, kind="review:updated", phase="post").count() == 1


def test_it_refuses_a_viewer(resolved, viewer):
    with pytest.raises(PermissionDenied):
        review_write(incident=resolved, by=viewer, summary="I only read")
    assert not Review.objects.exists()


def test_it_needs_a_summary(resolved, responder):
    with pytest.raises(ValidationError) as exc:
        review_write(incident=resolved, by=responder, summary="   ")
    assert "summary" in exc.value.message_dict


def test_it_waits_until_the_incident_is_resolved(responder):
    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)
    with pytest.raises(ReviewError, match="Resolve the incident"):
        review_write(incident=incident, by=responder, summary="Too early")
    assert not Review.objects.exists()


def test_closing_is_refused_without_a_review_and_allowed_with_one(resolved, responder, manager):
    with pytest.raises(TransitionError, match="review"):
        incident_transition(incident=resolved, to_status=Status.CLOSED, by=manager)
    assert Incident.objects.get(pk=resolved.pk).status == Status.RESOLVED

    review_write(incident=resolved, by=responder, summary="Reviewed together on Monday.")
    incident_transition(incident=resolved, to_status=Status.CLOSED, by=manager)
    assert Incident.objects.get(pk=resolved.pk).status == Status.CLOSED


def test_a_closed_incidents_review_no_longer_changes(resolved, responder, manager):
    review_write(incident=resolved, by=responder, summary="Final words")
    incident_transition(incident=resolved, to_status=Status.CLOSED, by=manager)
    with pytest.raises(ReviewError, match="closed"):
        review_write(incident=resolved, by=responder, summary="Rewriting history")
    assert Review.objects.get().summary == "Final words"


def test_action_items_name_an_owner_and_the_playbook_to_change(resolved, responder, responder2):
    review = review_write(incident=resolved, by=responder, summary="s")
    playbook = PlaybookFactory(name="Service failure response")
    item = action_item_add(
        review=review,
        by=responder,
        text="Add a Polish holding statement",
        owner=responder2,
        playbook=playbook,
    )

    assert (item.owner, item.playbook, item.done_at) == (responder2, playbook, None)
    event = TimelineEvent.objects.get(incident=resolved, kind="review:action_item")
    assert event.phase == "post" and "Service failure response" in event.text
    audit = AuditRecord.objects.get(action="action_item.added")
    assert audit.after["playbook"] == playbook.pk and audit.after["owner"] == responder2.pk


def test_an_action_item_needs_text_and_an_active_owner(resolved, responder, responder2):
    review = review_write(incident=resolved, by=responder, summary="s")
    with pytest.raises(ValidationError) as exc:
        action_item_add(review=review, by=responder, text="")
    assert "text" in exc.value.message_dict
    responder2.is_active = False
    responder2.save()
    with pytest.raises(ValidationError) as exc:
        action_item_add(review=review, by=responder, text="Follow up", owner=responder2)
    assert "owner" in exc.value.message_dict
    assert not ActionItem.objects.exists()


def test_an_action_item_is_done_once_and_can_be_reopened_after_closing(resolved, responder, manager):
    review = review_write(incident=resolved, by=responder, summary="s")
    item = action_item_add(review=review, by=responder, text="Update the FAQ")
    incident_transition(incident=resolved, to_status=Status.CLOSED, by=manager)

    action_item_set_done(item=item, by=responder, done=True)
    with pytest.raises(ReviewError, match="already done"):
        action_item_set_done(item=item, by=responder, done=True)
    assert ActionItem.objects.get(pk=item.pk).done_at is not None
    action_item_set_done(item=item, by=responder, done=False)
    assert ActionItem.objects.get(pk=item.pk).done_at is None
    assert [
        a.action for a in AuditRecord.objects.filter(object_type="incidents.actionitem").order_by("id")
    ] == [
        "action_item.added",
        "action_item.done",
        "action_item.reopened",
    ]


def test_recomputing_picks_up_what_happened_since(resolved, responder):
    review = review_write(incident=resolved, by=responder, summary="s")
    assert review.kpis["time_to_first_reply"]["value"] is None
    mention = MentionFactory(watch=resolved.watch, source__watch=resolved.watch, incident=resolved)
    Reply.objects.create(incident=resolved, mention=mention, text="We are sorry")

    review = review_recompute_kpis(review=review, by=responder)
    assert review.kpis["time_to_first_reply"]["status"] == "ok"
    audit = AuditRecord.objects.get(action="review.kpis_recomputed")
    assert audit.before["kpis"]["time_to_first_reply"]["value"] is None
    assert audit.after["kpis"]["time_to_first_reply"]["value"] is not None
