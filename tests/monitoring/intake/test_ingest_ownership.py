"""Ingest attaches every mention of a watch to its open incident from the crisis start, in the
INSERT that stores it, and marks the brand's own posts as ours (never counted as chatter)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, Status, TimelineEvent
from monitoring.intake.ingest import ingest_items
from monitoring.intake.normalise import handle_key, own_handles
from monitoring.models import Bucket, Mention
from monitoring.sources.base import Item
from tests.factories import IncidentFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


def item(n: int, *, minutes_ago: float = 1, **overrides) -> Item:
    values = {
        "external_id": f"ext-{n}",
        "text": f"Acme Air cancelled my flight {n}, terrible",
        "published_at": timezone.now() - timedelta(minutes=minutes_ago),
        "author": f"@passenger{n}",
    }
    values.update(overrides)
    return Item(**values)


@pytest.fixture
def source():
    watch = WatchFactory(
        name="Acme Air", own_accounts={"any": ["@AcmeAir"], "mastodon": ["@acme@airline.social"]}
    )
    return SourceFactory(watch=watch, kind="webhook")


@pytest.fixture
def incident(source):
    now = timezone.now()
    return IncidentFactory(
        watch=source.watch,
        detected_at=now - timedelta(minutes=30),
        owns_mentions_from=now - timedelta(hours=1),
    )


def test_a_mention_arriving_during_an_open_incident_is_attached_as_it_is_stored(source, incident):
    result = ingest_items(source=source, items=[item(1), item(2, minutes_ago=50)])
    assert result.created == 2
    assert set(Mention.objects.values_list("incident_id", flat=True)) == {incident.pk}


def test_a_mention_published_before_the_crisis_start_is_not_attached(source, incident):
    ingest_items(source=source, items=[item(1, minutes_ago=90), item(2)])
    assert dict(Mention.objects.values_list("external_id", "incident_id")) == {
        "ext-1": None,
        "ext-2": incident.pk,
    }


def test_nothing_is_attached_without_an_open_incident(source, incident):
    Incident.objects.filter(pk=incident.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
    ingest_items(source=source, items=[item(1)])
    assert Mention.objects.get().incident_id is None


def test_without_a_stored_crisis_start_it_attaches_from_detection(source, incident):
    Incident.objects.filter(pk=incident.pk).update(owns_mentions_from=None)
    ingest_items(source=source, items=[item(1, minutes_ago=40), item(2, minutes_ago=20)])
    assert dict(Mention.objects.values_list("external_id", "incident_id")) == {
        "ext-1": None,
        "ext-2": incident.pk,
    }


def _queries(source, items) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        ingest_items(source=source, items=items)
    return len(ctx.captured_queries)


def test_attaching_costs_no_query_per_row(source, incident):
    """Set-based: the attach rides in the INSERT; an open incident costs one query more than none,
    the batch's one live event (open pages of the incident hear of the new mentions)."""
    quiet = SourceFactory(watch=WatchFactory(name="Quiet"), kind="webhook")
    without = _queries(quiet, [item(n) for n in range(300)])
    with_incident = _queries(source, [item(n) for n in range(300)])
    assert with_incident == without + 1
    assert Mention.objects.filter(incident=incident).count() == 300


def test_the_brands_own_posts_are_marked_ours_and_never_counted(source):
    ingest_items(
        source=source,
        items=[
            item(1, author="@acmeair", text="We're sorry: check-in is down, we are fixing it."),
            item(2, author="AcmeAir", text="Yaşanan BT arızası için özür dileriz."),
            item(3, author="@AcmeAirFan", text="Acme Air lost my bag, terrible"),
        ],
    )
    assert dict(Mention.objects.values_list("external_id", "is_own")) == {
        "ext-1": True,
        "ext-2": True,
        "ext-3": False,
    }
    assert sum(Bucket.objects.values_list("volume", flat=True)) == 1


def test_own_accounts_are_per_platform(source):
    mastodon = SourceFactory(watch=source.watch, kind="mastodon")
    ingest_items(source=source, items=[item(1, author="@acme@airline.social")])
    ingest_items(source=mastodon, items=[item(2, author="@ACME@airline.social")])
    assert dict(Mention.objects.values_list("external_id", "is_own")) == {"ext-1": False, "ext-2": True}


def test_an_attached_own_post_is_on_the_timeline_as_our_public_statement(source, incident):
    ingest_items(source=source, items=[item(1, author="@AcmeAir", text="Our apology, and what we do next.")])
    event = TimelineEvent.objects.get(incident=incident, kind="own_statement")
    mention = Mention.objects.get()
    assert (event.mention, event.phase, event.at) == (mention, "during", mention.published_at)
    assert "Our public statement" in event.text and "Our apology" in event.text


def test_handles_match_case_insensitively_with_or_without_at():
    handles = own_handles(
        {"any": ["@AcmeAir"], "bluesky": ["acme.bsky.social"], "rss": "not a list"}, "bluesky"
    )
    assert handles == {"acmeair", "acme.bsky.social"}
    assert handle_key(" @ACMEAIR ") in handles
    assert own_handles(["broken"], "rss") == frozenset()
