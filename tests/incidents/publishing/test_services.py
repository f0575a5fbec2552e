"""Dark-site services: preparing, switching on and off, publishing approved words, corrections,
translations, the next-update promise; each audited with a timeline event in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import DarkSiteState, Draft, DraftStatus, PublicUpdate, Status, TimelineEvent
from incidents.publishing.services import (
    PublishingError,
    darksite_content_save,
    darksite_go_live,
    darksite_prepare,
    darksite_publish,
    darksite_switch_off,
    incident_set_next_update_due,
)
from incidents.response.services import draft_create, placeholder_values
from tests.factories import IncidentFactory, WatchFactory

pytestmark = pytest.mark.django_db


def test_a_prepared_site_is_dark_and_audited(site):
    assert site.state == DarkSiteState.DARK
    assert AuditRecord.objects.filter(action="darksite.prepared", object_id=str(site.pk)).exists()
    assert AuditRecord.objects.filter(action="darksite.content.added").count() == 2


def test_it_refuses_a_responder_preparing_a_site(watch, responder):
    with pytest.raises(PermissionDenied):
        darksite_prepare(watch=watch, slug="acme", by=responder)


@pytest.mark.parametrize("slug", ["", "Acme Air", "-acme", "acme-", "feed", "a" * 61, "<script>"])
def test_it_refuses_a_bad_address(watch, manager, slug):
    with pytest.raises(ValidationError) as caught:
        darksite_prepare(watch=watch, slug=slug, by=manager)
    assert "slug" in caught.value.message_dict


def test_one_site_per_watch_and_one_watch_per_address(site, manager):
    with pytest.raises(PublishingError):
        darksite_prepare(watch=site.watch, slug="acme-two", by=manager)
    with pytest.raises(ValidationError):
        darksite_prepare(watch=WatchFactory(name="Other"), slug="acme-air", by=manager)


def test_words_only_in_the_watchs_languages(site, manager):
    with pytest.raises(ValidationError) as caught:
        darksite_content_save(site=site, language="pl", by=manager, title="Status")
    assert "language" in caught.value.message_dict


def test_a_faq_entry_needs_question_and_answer(site, manager):
    with pytest.raises(ValidationError):
        darksite_content_save(site=site, language="en", by=manager, title="T", faq=[{"question": "Why?"}])


def test_going_live_needs_the_right_role_and_an_open_incident_of_the_watch(
    site, incident, responder, manager
):
    with pytest.raises(PermissionDenied):
        darksite_go_live(site=site, incident=incident, by=responder)
    with pytest.raises(PublishingError, match="another watch"):
        darksite_go_live(site=site, incident=IncidentFactory(), by=manager)
    closed = IncidentFactory(watch=site.watch, status=Status.RESOLVED)
    with pytest.raises(PublishingError, match="open incident"):
        darksite_go_live(site=site, incident=closed, by=manager)


def test_going_live_needs_prepared_words(watch, incident, manager):
    bare = darksite_prepare(watch=watch, slug="bare", by=manager)
    with pytest.raises(PublishingError, match="Prepare"):
        darksite_go_live(site=bare, incident=incident, by=manager)


def test_going_live_records_timeline_and_audit_and_bumps_the_version(site, incident, manager):
    version = site.version
    darksite_go_live(site=site, incident=incident, by=manager)
    site.refresh_from_db()
    assert (site.state, site.incident_id) == (DarkSiteState.LIVE, incident.pk)
    assert site.version > version
    event = TimelineEvent.objects.get(incident=incident, kind="darksite:live")
    assert "/status/acme-air/" in event.text
    assert AuditRecord.objects.filter(action="darksite.live", object_id=str(site.pk)).exists()
    with pytest.raises(PublishingError, match="already live"):
        darksite_go_live(site=site, incident=incident, by=manager)


def test_incident_url_resolves_to_the_site(site, incident, responder):
    assert placeholder_values(incident)["incident_url"] == "http://127.0.0.1:8000/status/acme-air/"
    draft = draft_create(incident=incident, by=responder, body="Read more at {incident_url}")
    assert (
        draft.body == "Read more at {incident_url}"
    )  # written by hand: a person fills it, or going live does


def test_going_live_fills_incident_url_into_unsubmitted_drafts(site, incident, responder, manager):
    draft = draft_create(incident=incident, by=responder, body="Updates at {incident_url}")
    darksite_go_live(site=site, incident=incident, by=manager)
    draft.refresh_from_db()
    assert draft.body == "Updates at http://127.0.0.1:8000/status/acme-air/"


def test_without_a_site_incident_url_stays_unfilled(incident):
    assert "incident_url" not in placeholder_values(incident)


def test_publishing_needs_a_live_site_and_an_approved_draft(site, incident, approved, responder, manager):
    draft = approved("We are looking into delays.")
    with pytest.raises(PublishingError, match="no live dark site"):
        darksite_publish(draft=draft, by=responder)
    darksite_go_live(site=site, incident=incident, by=manager)
    unapproved = draft_create(incident=incident, by=responder, body="Not yet approved")
    with pytest.raises(PublishingError, match="approved"):
        darksite_publish(draft=unapproved, by=responder)


def test_publishing_copies_the_approved_words_and_records_the_ledger(live, incident, approved, responder):
    draft = approved("We are looking into delays.", title="Delays")
    update = darksite_publish(draft=draft, by=responder)
    draft.refresh_from_db()
    assert (update.body, update.title, update.language) == ("We are looking into delays.", "Delays", "en")
    assert draft.status == DraftStatus.PUBLISHED
    assert draft.published_channel == "darksite"
    assert draft.published_url == "http://127.0.0.1:8000/status/acme-air/"
    assert draft.author is not None and draft.approver is not None and draft.published_by == responder
    assert TimelineEvent.objects.filter(incident=incident, kind="draft:published").exists()
    assert AuditRecord.objects.filter(action="darksite.published", object_id=str(update.pk)).exists()


def test_a_published_draft_cannot_be_published_twice(live, approved, responder):
    draft = approved("Once.")
    darksite_publish(draft=draft, by=responder)
    with pytest.raises(PublishingError):
        darksite_publish(draft=Draft.objects.get(pk=draft.pk), by=responder)


def test_a_correction_must_say_what_changed(live, incident, approved, responder):
    first = darksite_publish(draft=approved("Flights resume at 14:00."), by=responder)
    with pytest.raises(ValidationError) as caught:
        darksite_publish(draft=approved("Flights resume at 16:00."), by=responder, corrects=first)
    assert "change_note" in caught.value.message_dict
    correction = darksite_publish(
        draft=Draft.objects.filter(status=DraftStatus.APPROVED).get(),
        by=responder,
        corrects=first,
        change_note="The time is 16:00, not 14:00.",
    )
    assert correction.corrects == first
    first.refresh_from_db()
    assert first.body == "Flights resume at 14:00."  # the original stays as published
    assert TimelineEvent.objects.filter(incident=incident, kind="darksite:correction").exists()


def test_one_translation_per_language(live, approved, responder):
    original = darksite_publish(draft=approved("We are looking into delays."), by=responder)
    darksite_publish(
        draft=approved("Rötarları inceliyoruz.", language="tr"), by=responder, translation_of=original
    )
    with pytest.raises(PublishingError, match="already published in this language"):
        darksite_publish(
            draft=approved("İkinci çeviri.", language="tr"), by=responder, translation_of=original
        )


def test_published_updates_are_append_only_in_python(live, approved, responder):
    update = darksite_publish(draft=approved("Words."), by=responder)
    update.body = "Other words."
    with pytest.raises(ValueError, match="append-only"):
        update.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_editing_or_deleting_a_published_update(live, approved, responder):
    update = darksite_publish(draft=approved("Words."), by=responder)
    with pytest.raises(IntegrityError), transaction.atomic():
        PublicUpdate.objects.filter(pk=update.pk).update(body="Rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        PublicUpdate.objects.filter(pk=update.pk).delete()
    assert PublicUpdate.objects.get(pk=update.pk).body == "Words."


def test_switching_off_keeps_the_history(live, incident, approved, responder, manager):
    darksite_publish(draft=approved("Words."), by=responder)
    with pytest.raises(PermissionDenied):
        darksite_switch_off(site=live, by=responder)
    darksite_switch_off(site=live, by=manager)
    live.refresh_from_db()
    assert live.state == DarkSiteState.RESOLVED and live.resolved_at is not None
    assert PublicUpdate.objects.filter(site=live).count() == 1
    assert TimelineEvent.objects.filter(incident=incident, kind="darksite:resolved").exists()
    with pytest.raises(PublishingError, match="not live"):
        darksite_switch_off(site=live, by=manager)


def test_publishing_with_a_promise_sets_next_update_due(live, incident, approved, responder):
    due = timezone.now() + timedelta(hours=2)
    darksite_publish(draft=approved("Words."), by=responder, next_update_due=due)
    incident.refresh_from_db()
    assert incident.next_update_due == due
    assert TimelineEvent.objects.filter(incident=incident, kind="next-update-due").exists()


def test_next_update_due_by_hand(live, incident, responder, viewer):
    due = timezone.now() + timedelta(hours=1)
    with pytest.raises(PermissionDenied):
        incident_set_next_update_due(incident=incident, due=due, by=viewer)
    with pytest.raises(ValidationError):
        incident_set_next_update_due(
            incident=incident, due=timezone.now() - timedelta(minutes=1), by=responder
        )
    incident_set_next_update_due(incident=incident, due=due, by=responder)
    incident.refresh_from_db()
    assert incident.next_update_due == due
    assert AuditRecord.objects.filter(action="incident.next_update_due").exists()
