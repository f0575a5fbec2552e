"""The response queue holds every negative or high-risk mention the incident owns (never our own
posts), with filters by language, source, reach and answered/unanswered, in a pinned query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.lifecycle.selectors import incident_mention_counts
from incidents.models import Reply
from incidents.response.selectors import (
    QUEUE_HIGH_RISK,
    QueueFilters,
    queue_counts,
    response_panel_context,
    response_queue_page,
)
from tests.factories import IncidentFactory, MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(detected_at=timezone.now() - timedelta(hours=1))


def mention(incident, *, label="negative", risk=0.3, source=None, **kwargs):
    source = source or SourceFactory(watch=incident.watch)
    return MentionFactory(source=source, incident=incident, sentiment_label=label, risk=risk, **kwargs)


def queued(incident, **filters):
    return [row.mention for row in response_queue_page(incident, filters=QueueFilters(**filters))[1]]


def test_it_holds_negative_and_high_risk_mentions_but_not_calm_ones(incident):
    negative = mention(incident, risk=0.1)
    risky = mention(incident, label="neutral", risk=QUEUE_HIGH_RISK)
    mention(incident, label="positive", risk=0.1)
    mention(incident, label="neutral", risk=QUEUE_HIGH_RISK - 0.01)
    assert set(queued(incident)) == {negative, risky}


def test_it_never_holds_our_own_posts(incident):
    mention(incident, is_own=True, author="@AcmeAir")
    theirs = mention(incident)
    assert queued(incident) == [theirs]
    assert incident_mention_counts(incident) == {"total": 1, "negative": 1}


def test_it_filters_by_language_source_reach_and_answered(incident, responder):
    webhook = SourceFactory(watch=incident.watch, kind="webhook")
    rss = SourceFactory(watch=incident.watch, kind="rss")
    turkish = mention(incident, source=webhook, language="tr", author_reach=50)
    loud = mention(incident, source=rss, language="en", author_reach=250_000)
    answered = mention(incident, source=webhook, language="en", author_reach=2_000)
    Reply.objects.create(incident=incident, mention=answered, text="We're on it.", replied_by=responder)

    assert queued(incident, language="tr") == [turkish]
    assert queued(incident, source_kind="rss") == [loud]
    assert set(queued(incident, min_reach=1_000)) == {loud, answered}
    assert queued(incident, answered="answered") == [answered]
    assert set(queued(incident, answered="unanswered")) == {turkish, loud}
    assert queued(incident, language="en", answered="unanswered", min_reach=100_000) == [loud]
    counts = queue_counts(incident)
    assert (counts.total, counts.unanswered, counts.languages) == (3, 2, ["en", "tr"])


def queue_html(response) -> str:
    return response.content.decode().split('id="response-queue"', 1)[1].split("</section>", 1)[0]


def test_the_page_filters_from_the_query_string_and_ignores_nonsense(incident, client_for, responder):
    mention(incident, language="tr", text="Rezalet, uçuşum iptal")
    mention(incident, language="en", text="Cancelled again")
    client = client_for(responder)
    queue = queue_html(client.get(f"/incidents/{incident.pk}/?language=tr"))
    assert "Rezalet" in queue and "Cancelled again" not in queue
    response = client.get(f"/incidents/{incident.pk}/?language=<script>&reach=lots&answered=maybe")
    assert response.status_code == 200
    queue = queue_html(response)
    assert "Rezalet" in queue and "Cancelled again" in queue and "<script>" not in response.content.decode()


def test_a_long_post_is_clipped_with_the_whole_text_one_click_away(incident, client_for, viewer):
    long_text = "Cancelled flight. " + "x" * 10_000 + " <b>end</b>"
    mention(incident, text=long_text)
    body = client_for(viewer).get(f"/incidents/{incident.pk}/").content.decode()
    assert '<details class="mention-clip">' in body
    assert "&lt;b&gt;end&lt;/b&gt;" in body and "<b>end</b>" not in body  # escaped, whole text inside
    summary = body.split('<details class="mention-clip"><summary>', 1)[1].split("</summary>", 1)[0]
    assert len(summary) < 600


def test_the_panel_context_keeps_its_query_count_flat(incident, responder, django_assert_num_queries):
    for i in range(30):
        reply_to = mention(incident, language=["en", "tr", "pl"][i % 3], author_reach=i * 1000)
        if i % 4 == 0:
            Reply.objects.create(incident=incident, mention=reply_to, text="ok", replied_by=responder)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response_panel_context(
                incident, can_triage=True, queue_filters=QueueFilters(answered="unanswered")
            )
        return len(ctx.captured_queries)

    baseline = count()
    for _ in range(30):
        mention(incident, language="ms")
    with django_assert_num_queries(baseline):
        response_panel_context(incident, can_triage=True, queue_filters=QueueFilters(answered="unanswered"))
