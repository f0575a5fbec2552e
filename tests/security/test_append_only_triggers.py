"""On PostgreSQL the database itself refuses to rewrite or delete append-only records, whatever the
code path (the triggers of monitoring/0004, incidents/0004, crisisdesk/0003) — while every
legitimate UPDATE (scoring, attaching to an incident, retries, review) still works."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record
from crisisdesk.models import AuditRecord
from incidents.lifecycle.timeline import timeline_add
from incidents.models import Draft, DraftStatus, Evidence, NotificationDelivery, TimelineEvent
from incidents.response.services import draft_edit, evidence_capture
from monitoring.models import Mention, MentionState, Signal
from tests.conftest import make_member
from tests.factories import IncidentFactory, MentionFactory, RuleFactory, SourceFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the append-only triggers are PostgreSQL's (CI runs the suite on it)",
    ),
    pytest.mark.django_db,
]


def refused(statement):
    """Run ``statement`` in a savepoint and say whether the database refused it."""
    try:
        with transaction.atomic():
            statement()
    except IntegrityError as error:
        assert "refused" in str(error)
        return True
    return False


@pytest.fixture
def mention():
    watch = WatchFactory(name="Acme Air")
    incident = IncidentFactory(watch=watch)
    return MentionFactory(
        source=SourceFactory(watch=watch),
        watch=watch,
        incident=incident,
        text="Acme Air lost my bag",
        author="traveller",
    )


# --- Mentions ---------------------------------------------------------------------------------------


def test_a_mentions_content_cannot_change(mention):
    rows = Mention.objects.filter(pk=mention.pk)
    assert refused(lambda: rows.update(text="Acme Air is great"))
    assert refused(lambda: rows.update(author="someone else"))
    assert refused(lambda: rows.update(published_at=timezone.now()))
    mention.url = "https://elsewhere.example/"
    assert refused(mention.save)
    assert Mention.objects.get(pk=mention.pk).text == "Acme Air lost my bag"


def test_scoring_and_attaching_still_update_a_mention(mention):
    rows = Mention.objects.filter(pk=mention.pk)
    assert not refused(
        lambda: rows.update(
            language="en",
            sentiment=-0.8,
            sentiment_label="negative",
            risk=0.9,
            crisis_terms=["lost"],
            scenario_hint="viral_complaint",
            state=MentionState.SCORED,
            scored_at=timezone.now(),
        )
    )
    assert not refused(lambda: rows.update(incident=None))
    fresh = Mention.objects.get(pk=mention.pk)
    fresh.state = MentionState.NEW
    assert not refused(fresh.save)  # a full-row save that leaves the content alone


def test_a_mention_is_never_deleted_except_by_a_declared_purge(mention):
    assert refused(lambda: Mention.objects.filter(pk=mention.pk).delete())

    def purge():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL crisisdesk.purge = 'on'")
        Mention.objects.filter(pk=mention.pk).delete()

    assert not refused(purge)
    assert not Mention.objects.filter(pk=mention.pk).exists()


# --- Evidence, timeline, audit ----------------------------------------------------------------------


def test_evidence_cannot_be_rewritten_or_deleted(mention, responder):
    evidence, _ = evidence_capture(incident=mention.incident, mention=mention, by=responder)
    rows = Evidence.objects.filter(pk=evidence.pk)
    assert refused(lambda: rows.update(sha256="0" * 64))
    assert refused(lambda: rows.update(text="they never said that"))
    assert refused(lambda: rows.update(captured_by=make_member("someone-else", None)))  # re-pointed
    assert refused(lambda: rows.delete())
    assert not refused(lambda: rows.update(captured_by=None))  # ON DELETE SET NULL of a member


def test_the_timeline_cannot_be_rewritten_or_deleted_but_a_deleted_signal_is_unlinked(mention):
    rule = RuleFactory(watch=mention.watch)
    now = timezone.now()
    signal = Signal.objects.create(
        rule=rule, watch=mention.watch, window_start=now, window_end=now, observed=30, expected=2, severity=2
    )
    event = timeline_add(incident=mention.incident, kind="signal", text="Volume spike", signal=signal)
    rows = TimelineEvent.objects.filter(pk=event.pk)
    assert refused(lambda: rows.update(text="Nothing happened"))
    assert refused(lambda: rows.delete())
    assert not refused(rule.delete)  # its signals go; the timeline keeps the event, unlinked
    assert TimelineEvent.objects.get(pk=event.pk).signal_id is None


def test_the_audit_trail_cannot_be_rewritten_or_deleted(mention):
    member = make_member("ex-member", "responder")
    row = audit_record(actor=member, action="watch.updated", target=mention.watch, after={"name": "x"})
    rows = AuditRecord.objects.filter(pk=row.pk)
    assert refused(lambda: rows.update(after={"name": "y"}))
    assert refused(lambda: rows.delete())
    assert not refused(member.delete)  # a deleted member's rows keep everything but the link
    assert AuditRecord.objects.get(pk=row.pk).actor_id is None


# --- The delivery log -------------------------------------------------------------------------------


@pytest.fixture
def delivery(mention):
    channel = make_channel(kind="webhook", url="https://hooks.example.com/x")
    return NotificationDelivery.objects.create(
        channel=channel, incident=mention.incident, event="opened", payload={"title": "Acme Air"}
    )


def test_retries_move_a_delivery_but_what_was_sent_where_stays(delivery):
    rows = NotificationDelivery.objects.filter(pk=delivery.pk)
    assert not refused(lambda: rows.update(attempts=2, last_error="HTTP 503", next_attempt_at=timezone.now()))
    assert not refused(lambda: rows.update(status="failed"))
    assert not refused(lambda: rows.update(status="pending", attempts=0))  # a manager's retry
    assert not refused(lambda: rows.update(status="sent", sent_at=timezone.now()))
    assert refused(lambda: rows.update(status="failed"))  # a sent delivery stays sent
    assert refused(lambda: rows.update(payload={"title": "something else"}))
    assert refused(lambda: rows.update(event="resolved"))


def test_the_delivery_log_and_so_its_channel_are_never_deleted(delivery):
    assert refused(lambda: NotificationDelivery.objects.filter(pk=delivery.pk).delete())
    assert refused(delivery.channel.delete)
    assert NotificationDelivery.objects.filter(pk=delivery.pk).exists()


# --- Drafts -----------------------------------------------------------------------------------------


def test_an_approved_or_published_draft_keeps_its_words(mention, responder, manager):
    approved = Draft.objects.create(
        incident=mention.incident,
        body="We are looking into it.",
        author=responder,
        approver=manager,
        status=DraftStatus.APPROVED,
    )
    published = Draft.objects.create(
        incident=mention.incident,
        body="We are sorry.",
        author=responder,
        approver=manager,
        status=DraftStatus.PUBLISHED,
    )
    assert refused(lambda: Draft.objects.filter(pk=approved.pk).update(body="We did nothing wrong."))
    assert refused(lambda: Draft.objects.filter(pk=published.pk).update(title="Changed after publishing"))
    assert refused(
        lambda: Draft.objects.filter(pk=published.pk).update(body="x", status=DraftStatus.IN_REVIEW)
    )

    edited = draft_edit(draft=approved, by=responder, body="We are looking into it, with the airport.")
    assert edited.status == DraftStatus.IN_REVIEW  # the legitimate edit: back to review, same UPDATE
    assert not refused(lambda: Draft.objects.filter(pk=approved.pk).update(body="Still in review"))


# --- Flushes --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_flush_still_empties_the_append_only_tables(mention, responder):
    evidence_capture(incident=mention.incident, mention=mention, by=responder)
    assert Evidence.objects.exists() and TimelineEvent.objects.exists() and AuditRecord.objects.exists()
    call_command("flush", interactive=False, verbosity=0)  # TRUNCATE fires no row trigger
    assert not Mention.objects.exists() and not Evidence.objects.exists()
    assert not TimelineEvent.objects.exists() and not AuditRecord.objects.exists()
