"""Reddit search with app-only OAuth, against recorded answers served from 127.0.0.1."""

from __future__ import annotations

import base64
import time

import pytest
from django.core.exceptions import ValidationError

from monitoring.sources import get_connector
from monitoring.sources.base import PermanentError, TemporaryError
from tests.factories import SourceFactory
from tests.recorded_server import Reply

TOKEN = "/api/v1/access_token"
SEARCH = "/search"


@pytest.fixture
def connector():
    return get_connector("reddit")


def reddit_source(server, **config):
    config = {
        "client_id": "app-id-123",
        "client_secret": "s3cr3t",
        "query": '"acme air" OR acmeair',
        "auth_base": server.url,
        "api_base": server.url,
        **config,
    }
    return SourceFactory.build(kind="reddit", config=config)


def route_token(server, *replies):
    server.route("POST", TOKEN, *(replies or (Reply.fixture("reddit/token.json"),)))


def test_it_gets_a_token_and_maps_posts(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("reddit/search_page1.json"))

    items, cursor = connector.fetch(reddit_source(recorded_server), {})

    assert [i.external_id for i in items] == ["reddit:t3_1gx0003", "reddit:t3_1gx0002", "reddit:t3_1gx0001"]
    indonesian = items[1]
    assert (
        indonesian.text
        == "Acme Air penipuan? Refund belum masuk\n\nSudah 2 minggu, minta refund tidak diproses."
    )
    assert indonesian.author == "u/budi_id"
    assert indonesian.author_reach == 650000
    assert indonesian.engagement == 12 + 9
    assert indonesian.url == "https://www.reddit.com/r/indonesia/comments/1gx0002/acme_air/"
    assert items[2].text == "Acme Air flight cancelled"
    assert cursor["newest"] == 1795169500
    assert cursor["token"]["access_token"] == "eyJhbGciOiJSUzI1NiJ9.recorded-token-1"

    token_request = recorded_server.requests_to(TOKEN, method="POST")[0]
    assert token_request.form() == {"grant_type": ["client_credentials"]}
    assert (
        token_request.headers["authorization"] == "Basic " + base64.b64encode(b"app-id-123:s3cr3t").decode()
    )
    search = recorded_server.requests_to(SEARCH)[0]
    assert search.headers["authorization"] == "bearer eyJhbGciOiJSUzI1NiJ9.recorded-token-1"
    assert (
        search.headers["user-agent"]
        == "server:crisisdesk:0.1 (self-hosted crisis monitoring; app app-id-123)"
    )
    assert (search.param("q"), search.param("sort"), search.param("limit"), search.param("raw_json")) == (
        '"acme air" OR acmeair',
        "new",
        "100",
        "1",
    )


def test_a_script_in_a_post_stays_plain_text(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("reddit/search_page1.json"))

    items, _ = connector.fetch(reddit_source(recorded_server), {})

    # Reddit text is plain (raw_json=1): what the author typed is kept as characters, never markup.
    assert (
        items[0].text
        == "Acme Air lost my luggage <script>alert(1)</script>\n\nThree days & counting. <b>No</b> answer."
    )


def test_the_token_is_reused_until_it_expires(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route(
        "GET", SEARCH, Reply.fixture("reddit/search_page1.json"), Reply.fixture("reddit/empty.json")
    )
    source = reddit_source(recorded_server)

    _, cursor = connector.fetch(source, {})
    connector.fetch(source, cursor)
    expired = {**cursor, "token": {**cursor["token"], "expires_at": time.time() + 30}}
    connector.fetch(source, expired)

    assert len(recorded_server.requests_to(TOKEN, method="POST")) == 2


def test_the_cursor_advances_and_nothing_is_returned_twice(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route(
        "GET",
        SEARCH,
        Reply.fixture("reddit/search_page1.json"),
        Reply.fixture("reddit/search_page2.json"),
        Reply.fixture("reddit/search_page2.json"),
    )
    source = reddit_source(recorded_server)

    first, cursor = connector.fetch(source, {})
    second, cursor = connector.fetch(source, cursor)
    third, cursor = connector.fetch(source, cursor)

    assert len(first) == 3
    # t3_1gx0003 came in the first fetch; t3_1gx0004 was indexed late and is still caught.
    assert [i.external_id for i in second] == ["reddit:t3_1gx0005", "reddit:t3_1gx0004"]
    assert third == []
    assert cursor["newest"] == 1795169800


def test_empty_results_keep_the_cursor(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("reddit/empty.json"))

    items, cursor = connector.fetch(
        reddit_source(recorded_server), {"newest": 1795169500, "seen": {"reddit:t3_x": 1795169500}}
    )

    assert items == []
    assert (cursor["newest"], cursor["seen"]) == (1795169500, {"reddit:t3_x": 1795169500})


def test_a_subreddit_restricts_the_search(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", "/r/travel/search", Reply.fixture("reddit/empty.json"))

    connector.fetch(reddit_source(recorded_server, subreddit="r/travel"), {})

    assert recorded_server.requests_to("/r/travel/search")[0].param("restrict_sr") == "1"


def test_a_401_refreshes_the_token_once_and_retries(recorded_server, connector):
    route_token(recorded_server, Reply.fixture("reddit/token_refreshed.json"))
    recorded_server.route(
        "GET",
        SEARCH,
        Reply.fixture("reddit/unauthorized.json", status=401),
        Reply.fixture("reddit/search_page1.json"),
    )
    stale = {"token": {"access_token": "stale", "expires_at": time.time() + 3600}}

    items, cursor = connector.fetch(reddit_source(recorded_server), stale)

    assert len(items) == 3
    assert [r.headers["authorization"] for r in recorded_server.requests_to(SEARCH)] == [
        "bearer stale",
        "bearer eyJhbGciOiJSUzI1NiJ9.recorded-token-2",
    ]
    assert cursor["token"]["access_token"] == "eyJhbGciOiJSUzI1NiJ9.recorded-token-2"


def test_a_second_401_is_permanent(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("reddit/unauthorized.json", status=401))

    with pytest.raises(PermanentError, match="401"):
        connector.fetch(reddit_source(recorded_server), {})

    assert len(recorded_server.requests_to(SEARCH)) == 2


def test_refused_credentials_are_permanent(recorded_server, connector):
    route_token(recorded_server, Reply.fixture("reddit/unauthorized.json", status=401))

    with pytest.raises(PermanentError, match="client id/secret"):
        connector.fetch(reddit_source(recorded_server), {})


def test_an_invalid_grant_is_permanent(recorded_server, connector):
    route_token(recorded_server, Reply.fixture("reddit/token_invalid_grant.json"))

    with pytest.raises(PermanentError, match="invalid_grant"):
        connector.fetch(reddit_source(recorded_server), {})


def test_a_403_with_an_html_body_is_permanent_with_a_plain_reason(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("common/forbidden.html", status=403))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(reddit_source(recorded_server), {})

    assert "403" in str(raised.value) and "Access denied by the edge firewall" in str(raised.value)
    assert "<" not in str(raised.value)


def test_a_429_honours_retry_after(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route(
        "GET",
        SEARCH,
        Reply.fixture("reddit/too_many_requests.json", status=429, headers={"Retry-After": "90"}),
    )

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(reddit_source(recorded_server), {})

    assert raised.value.retry_after == 90


def test_a_429_without_retry_after_uses_the_ratelimit_reset(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route(
        "GET",
        SEARCH,
        Reply.fixture(
            "reddit/too_many_requests.json",
            status=429,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": "412"},
        ),
    )

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(reddit_source(recorded_server), {})

    assert raised.value.retry_after == 412


def test_malformed_json_is_temporary(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("common/truncated.json"))

    with pytest.raises(TemporaryError, match="not valid JSON"):
        connector.fetch(reddit_source(recorded_server), {})


def test_a_payload_that_is_not_a_listing_is_temporary(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.json({"kind": "t5", "data": {}}))

    with pytest.raises(TemporaryError, match="not a listing"):
        connector.fetch(reddit_source(recorded_server), {})


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"client_secret": "s", "query": "q"}, "client_id"),
        ({"client_id": "c", "query": "q"}, "client_secret"),
        ({"client_id": "c", "client_secret": "s"}, "query"),
        (
            {"client_id": "c", "client_secret": "s", "query": "q", "subreddit": "no spaces allowed"},
            "subreddit",
        ),
        (
            {"client_id": "c", "client_secret": "s", "query": "q", "api_base": "file:///etc/passwd"},
            "api_base",
        ),
    ],
)
def test_validate_config_names_the_bad_field(connector, config, field):
    with pytest.raises(ValidationError) as raised:
        connector.validate_config(config)
    assert field in raised.value.message_dict


def test_a_link_post_keeps_its_permalink_and_its_linked_url(recorded_server, connector):
    route_token(recorded_server)
    recorded_server.route("GET", SEARCH, Reply.fixture("reddit/search_link_post.json"))

    items, _ = connector.fetch(reddit_source(recorded_server), {})

    link, self_post = items
    assert link.url == "https://www.reddit.com/r/aviation/comments/1hy0011/cabin_crew_strike_announced/"
    assert link.match_extras == ("https://news.example/2026/12/01/acme-air-strike",)
    assert link.text == "Cabin crew strike announced"
    # A self post's url is its own permalink: nothing more to match.
    assert self_post.match_extras == ()
