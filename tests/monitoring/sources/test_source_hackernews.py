"""Hacker News via Algolia search_by_date, against recorded answers served from 127.0.0.1."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from monitoring.intake.polling import poll_source
from monitoring.models import Mention
from monitoring.sources import get_connector
from monitoring.sources.base import PermanentError, TemporaryError
from monitoring.sources.hackernews import hit_to_item
from tests.factories import SourceFactory
from tests.recorded_server import Reply

SEARCH = "/api/v1/search_by_date"


@pytest.fixture
def connector():
    return get_connector("hackernews")


def hn_source(server, **config):
    return SourceFactory.build(
        kind="hackernews", config={"query": "acme air", "base_url": server.url, **config}
    )


def test_it_maps_stories_and_comments(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.fixture("hackernews/search_page1.json"))

    items, cursor = connector.fetch(hn_source(recorded_server), {})

    by_id = {i.external_id: i for i in items}
    assert list(by_id) == ["hn:42000003", "hn:42000002", "hn:42000001", "hn:41999999"]
    story = by_id["hn:42000001"]
    assert story.text == "Acme Air grounds all flights after IT outage"
    assert story.url == "https://news.example/acme-air-outage"
    assert story.author == "newsbot"
    assert story.engagement == 312 + 148
    assert story.published_at.isoformat() == "2026-11-20T10:00:00+00:00"
    ask = by_id["hn:41999999"]
    assert ask.text == "Ask HN: Is Acme Air safe to fly?\nSaw a few reports/complaints."
    assert ask.url == "https://news.ycombinator.com/item?id=41999999"  # no url: the HN item itself
    comment = by_id["hn:42000002"]
    assert comment.text == "Acme Air ops is a mess, third time this month."
    assert comment.url == "https://news.ycombinator.com/item?id=42000002"
    assert comment.engagement == 0
    assert "_highlightResult" not in comment.raw
    assert cursor["newest"] == 1795169400
    request = recorded_server.requests_to(SEARCH)[0]
    assert request.param("query") == "acme air"
    assert request.param("tags") == "(story,comment)"
    assert request.param("numericFilters") is None


def test_a_script_in_a_comment_comes_out_as_plain_text(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.fixture("hackernews/search_page1.json"))

    items, _ = connector.fetch(hn_source(recorded_server), {})

    leak = items[0]
    assert leak.text == (
        'I worked at Acme Air\'s IT. The outage is a leaked credential, not "weather".\nSource: trust me'
    )
    assert "script" not in leak.text and "alert" not in leak.text


def test_the_cursor_looks_back_and_nothing_is_returned_twice(recorded_server, connector):
    recorded_server.route(
        "GET",
        SEARCH,
        Reply.fixture("hackernews/search_page1.json"),
        Reply.fixture("hackernews/search_page2.json"),
        Reply.fixture("hackernews/search_page2.json"),
    )
    source = hn_source(recorded_server)

    first, cursor = connector.fetch(source, {})
    second, cursor = connector.fetch(source, cursor)
    third, cursor = connector.fetch(source, cursor)

    assert len(first) == 4
    # 42000003 was returned by the first fetch; 42000004 was indexed late but is still caught.
    assert [i.external_id for i in second] == ["hn:42000005", "hn:42000004"]
    assert third == []
    assert cursor["newest"] == 1795169700
    filters = [r.param("numericFilters") for r in recorded_server.requests_to(SEARCH)]
    assert filters == [None, f"created_at_i>{1795169400 - 300}", f"created_at_i>{1795169700 - 300}"]


def test_empty_results_keep_the_cursor(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.fixture("hackernews/empty.json"))
    cursor = {"newest": 1795169400, "seen": {"hn:42000003": 1795169400}}

    items, new_cursor = connector.fetch(hn_source(recorded_server), cursor)

    assert items == []
    assert new_cursor == cursor


def test_further_pages_are_followed_when_resuming(recorded_server, connector):
    page = {"hits": [], "nbPages": 2, "page": 0}
    recorded_server.route(
        "GET",
        SEARCH,
        lambda request: Reply.json(
            {
                **page,
                "page": int(request.param("page")),
                "hits": [
                    {
                        "objectID": f"9{request.param('page')}",
                        "created_at_i": 1795169500,
                        "title": "Acme Air again",
                    }
                ],
            }
        ),
    )

    items, _ = connector.fetch(hn_source(recorded_server), {"newest": 1795169400})

    assert [i.external_id for i in items] == ["hn:90", "hn:91"]
    assert [r.param("page") for r in recorded_server.requests_to(SEARCH)] == ["0", "1"]


def test_a_401_is_permanent(recorded_server, connector):
    recorded_server.route(
        "GET", SEARCH, Reply.json({"message": "Invalid Application-ID or API key", "status": 401}, status=401)
    )

    with pytest.raises(PermanentError, match=r"401.*Invalid Application-ID"):
        connector.fetch(hn_source(recorded_server), {})


def test_a_403_with_an_html_body_is_permanent_with_a_plain_reason(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.fixture("common/forbidden.html", status=403))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(hn_source(recorded_server), {})

    assert "Hacker News search: access refused (HTTP 403)" in str(raised.value)
    assert "<" not in str(raised.value)


def test_a_429_honours_retry_after(recorded_server, connector):
    recorded_server.route(
        "GET",
        SEARCH,
        Reply.fixture("hackernews/rate_limited.json", status=429, headers={"Retry-After": "3600"}),
    )

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(hn_source(recorded_server), {})

    assert raised.value.retry_after == 3600


def test_a_5xx_is_temporary(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply(503, "upstream unavailable"))

    with pytest.raises(TemporaryError, match="503"):
        connector.fetch(hn_source(recorded_server), {})


def test_malformed_json_is_temporary(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.fixture("common/truncated.json"))

    with pytest.raises(TemporaryError, match="not valid JSON"):
        connector.fetch(hn_source(recorded_server), {})


def test_a_payload_without_hits_is_temporary(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.json({"message": "maintenance"}))

    with pytest.raises(TemporaryError, match="no list of hits"):
        connector.fetch(hn_source(recorded_server), {})


def test_an_unreachable_server_is_temporary(connector):
    source = SourceFactory.build(
        kind="hackernews", config={"query": "acme", "base_url": "http://127.0.0.1:9"}
    )

    with pytest.raises(TemporaryError, match="ConnectError"):
        connector.fetch(source, {})


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "acme", "base_url": "javascript:alert(1)"}, "base_url"),
        ({"query": "acme", "tags": "job"}, "tags"),
        ({"query": "acme", "max_pages": 0}, "max_pages"),
    ],
)
def test_validate_config_names_the_bad_field(connector, config, field):
    with pytest.raises(ValidationError) as raised:
        connector.validate_config(config)
    assert field in raised.value.message_dict


def test_validate_config_fills_defaults(connector):
    assert connector.validate_config({"query": " acme air "}) == {
        "query": "acme air",
        "tags": "(story,comment)",
        "base_url": "https://hn.algolia.com",
        "max_pages": 5,
    }


def test_a_comment_carries_its_storys_title_and_url_for_matching(recorded_server, connector):
    recorded_server.route("GET", SEARCH, Reply.fixture("hackernews/search_comments_under_story.json"))

    items, _ = connector.fetch(hn_source(recorded_server), {})

    by_id = {i.external_id: i for i in items}
    outsourced = by_id["hn:42100007"]
    assert outsourced.text.startswith("Having flown their A320s")  # the comment, as written
    assert outsourced.match_extras == (
        "Acme Air grounds its fleet after software fault",
        "https://news.example/2026/12/01/acme-air-grounded",
    )
    assert outsourced.url == "https://news.ycombinator.com/item?id=42100007"
    assert by_id["hn:42100006"].match_extras == (
        "Status page says everything is fine",
        "https://www.acmeair.example/status",
    )


def test_a_story_carries_no_story_extras():
    story = hit_to_item(
        {"objectID": "1", "title": "Acme Air news", "created_at_i": 1796119500, "story_title": "ignored"}
    )

    assert story.match_extras == ()


@pytest.mark.django_db
def test_a_comment_is_dropped_by_an_exclude_term_in_its_storys_title(recorded_server):
    recorded_server.route("GET", SEARCH, Reply.fixture("hackernews/search_comments_under_story.json"))
    source = SourceFactory(kind="hackernews", config={"query": "acme air", "base_url": recorded_server.url})
    source.watch.exclude_terms = ["software fault"]
    source.watch.save(update_fields=["exclude_terms"])

    poll_source(source_id=source.pk)

    assert list(Mention.objects.filter(source=source).values_list("external_id", flat=True)) == [
        "hn:42100006"
    ]
