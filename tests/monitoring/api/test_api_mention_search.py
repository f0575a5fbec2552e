"""The mention list API's search filters: the explorer's search (full text, risk, reach, author,
our own posts, answered), strict 400s, and cursor pages over the searched set."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Reply
from tests.factories import IncidentFactory, MentionFactory
from tests.monitoring.api.test_api_reads import api_for, url

pytestmark = pytest.mark.django_db


def ids(user, **params) -> list[int]:
    response = api_for(user).get(url("mention-list"), params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_q_finds_whole_words_the_same_way_as_the_explorer(viewer):
    hit = MentionFactory(text="Lost luggage at the gate", language="en")
    MentionFactory(text="All good", language="en")
    assert ids(viewer, q="luggage") == [hit.pk]
    assert ids(viewer, q="LUGGAGE gate") == [hit.pk]
    if connection.vendor == "postgresql":
        assert ids(viewer, q="gates") == [hit.pk]  # English stemming


def test_the_new_filters_narrow_the_list(viewer):
    incident = IncidentFactory()
    target = MentionFactory(
        source__watch=incident.watch,
        incident=incident,
        risk=0.9,
        author_reach=20_000,
        author="@Big",
        is_own=False,
    )
    other = MentionFactory(risk=0.1, author_reach=10, author="@small", is_own=True)
    Reply.objects.create(incident=incident, mention=target, text="On it")
    assert ids(viewer, min_risk="0.5") == [target.pk]
    assert ids(viewer, min_reach="1000") == [target.pk]
    assert ids(viewer, author="@big") == [target.pk]
    assert ids(viewer, is_own="true") == [other.pk]
    assert ids(viewer, answered="true") == [target.pk]
    assert ids(viewer, answered="false") == [other.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 201}, "q"),
        ({"min_risk": "high"}, "min_risk"),
        ({"min_risk": "1.5"}, "min_risk"),
        ({"min_reach": "-3"}, "min_reach"),
        ({"min_reach": "2.5"}, "min_reach"),
        ({"is_own": "maybe"}, "is_own"),
        ({"answered": "sometimes"}, "answered"),
    ],
)
def test_a_bad_search_filter_is_a_400_naming_it(viewer, params, field):
    response = api_for(viewer).get(url("mention-list"), params)
    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize("hostile", ["'\":*&|!", "a & | ! b", "' OR 1=1 --", "(((", "\\"])
def test_hostile_search_input_is_never_a_500(viewer, hostile):
    assert api_for(viewer).get(url("mention-list"), {"q": hostile}).status_code == 200


def test_cursor_pages_walk_the_searched_set(viewer):
    at = timezone.now()
    hits = [MentionFactory(text="refund please", published_at=at - timedelta(minutes=n)) for n in range(5)]
    MentionFactory(text="nothing to see", published_at=at)
    client = api_for(viewer)
    page = client.get(url("mention-list"), {"q": "refund", "page_size": 2}).json()
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen.extend(row["id"] for row in page["results"])
    assert seen == [m.pk for m in hits]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the rare-word plan reads PostgreSQL's statistics"
)
def test_cursor_pages_of_a_rare_word_order_through_the_unindexed_alias(viewer, monkeypatch):
    at = timezone.now()
    hits = [
        MentionFactory(text=f"TK1984 diverted {n}", published_at=at - timedelta(minutes=n // 2))
        for n in range(5)
    ]
    MentionFactory(text="nothing to see", published_at=at)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_mention")  # rolled back with the test
    monkeypatch.setattr("monitoring.explorer.search.RARE_WORD_SHARE", 1.1)  # every word counts as rare
    client = api_for(viewer)
    page = client.get(url("mention-list"), {"q": "tk1984", "page_size": 2}).json()
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen.extend(row["id"] for row in page["results"])
    assert seen == [m.pk for m in sorted(hits, key=lambda m: (m.published_at, m.pk), reverse=True)]
    assert (
        "unindexed_published_at" not in client.get(url("mention-list"), {"q": "tk1984"}).json()["results"][0]
    )
