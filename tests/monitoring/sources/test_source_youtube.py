"""YouTube comment threads (API key), against recorded answers served from 127.0.0.1."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from monitoring.sources import get_connector
from monitoring.sources.base import PermanentError, TemporaryError
from monitoring.sources.youtube import seconds_until_quota_reset, thread_to_item
from tests.factories import SourceFactory
from tests.recorded_server import Reply

THREADS = "/youtube/v3/commentThreads"
VIDEO = "dQw4w9WgXcQ"


@pytest.fixture
def connector():
    return get_connector("youtube")


def youtube_source(server, **config):
    config = {"api_key": "AIza-recorded", "video_ids": [VIDEO], "base_url": server.url, **config}
    return SourceFactory.build(kind="youtube", config=config)


def test_it_maps_comment_threads(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/threads_page1.json"))

    items, cursor = connector.fetch(youtube_source(recorded_server), {})

    assert [i.external_id for i in items] == ["yt:UgxC003", "yt:UgxC002"]
    turkish = items[1]
    assert turkish.text == "Acme Air rezalet, bir daha asla!"
    assert turkish.author == "@mehmet"
    assert turkish.engagement == 40 + 5
    assert turkish.url == f"https://www.youtube.com/watch?v={VIDEO}&lc=UgxC002"
    assert turkish.published_at.isoformat() == "2026-11-20T10:06:00+00:00"
    assert (
        cursor["threads"][f"videoId:{VIDEO}"]["newest"]
        == datetime.fromisoformat("2026-11-20T10:12:00+00:00").timestamp()
    )
    request = recorded_server.requests_to(THREADS)[0]
    assert (
        request.param("part"),
        request.param("videoId"),
        request.param("order"),
        request.param("maxResults"),
    ) == (
        "snippet",
        VIDEO,
        "time",
        "100",
    )
    assert request.headers["x-goog-api-key"] == "AIza-recorded"
    assert request.param("key") is None  # never in the URL, so never in a log line
    assert request.param("pageToken") is None  # a first poll takes the latest page only


def test_a_script_in_a_comment_stays_plain_text(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/threads_page1.json"))

    items, _ = connector.fetch(youtube_source(recorded_server), {})

    assert items[0].text == "Acme Air hat mich im Stich gelassen <script>alert(1)</script>"


def test_pages_are_followed_until_known_comments_and_nothing_is_returned_twice(recorded_server, connector):
    recorded_server.route(
        "GET",
        THREADS,
        Reply.fixture("youtube/threads_page1.json"),
        Reply.fixture("youtube/threads_page2.json"),
        Reply.fixture("youtube/threads_page1b.json"),
    )
    source = youtube_source(recorded_server)

    first, cursor = connector.fetch(source, {})
    second, cursor = connector.fetch(source, cursor)

    assert [i.external_id for i in first] == ["yt:UgxC003", "yt:UgxC002"]
    # Page 2 reaches a known comment, so its nextPageToken is not followed; UgxC003 is not repeated.
    assert [i.external_id for i in second] == ["yt:UgxC004"]
    assert second[0].text == "Acme Air penipu, uang saya hilang"
    assert len(recorded_server.requests_to(THREADS)) == 2


def test_a_long_backlog_is_paged_with_next_page_token(recorded_server, connector):
    recorded_server.route(
        "GET",
        THREADS,
        Reply.fixture("youtube/threads_page1.json"),
        Reply.fixture("youtube/threads_page1b.json"),
    )
    old = datetime.fromisoformat("2026-11-20T09:00:00+00:00").timestamp()

    items, _ = connector.fetch(
        youtube_source(recorded_server), {"threads": {f"videoId:{VIDEO}": {"newest": old}}}
    )

    assert [i.external_id for i in items] == ["yt:UgxC003", "yt:UgxC002", "yt:UgxC001"]
    assert [r.param("pageToken") for r in recorded_server.requests_to(THREADS)] == [None, "QURTSl9pMlQ"]


def test_a_channel_and_search_terms_are_asked_for(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/empty.json"))
    channel = "UC" + "a" * 22

    items, cursor = connector.fetch(
        youtube_source(recorded_server, video_ids=[], channel_id=channel, search_terms="acme"), {}
    )

    request = recorded_server.requests_to(THREADS)[0]
    assert (request.param("allThreadsRelatedToChannelId"), request.param("searchTerms")) == (channel, "acme")
    assert items == []
    assert cursor == {"threads": {f"allThreadsRelatedToChannelId:{channel}": {"newest": 0.0, "seen": {}}}}


def test_empty_results_keep_the_cursor(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/empty.json"))
    state = {"newest": 1795169520.0, "seen": {"yt:UgxC003": 1795169520.0}}

    items, cursor = connector.fetch(youtube_source(recorded_server), {"threads": {f"videoId:{VIDEO}": state}})

    assert items == []
    assert cursor == {"threads": {f"videoId:{VIDEO}": state}}


def test_quota_exceeded_is_temporary_until_the_pacific_midnight_reset(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/quota_exceeded.json", status=403))

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(youtube_source(recorded_server), {})

    assert "quotaExceeded" in str(raised.value)
    assert 60 <= raised.value.retry_after <= 24 * 3600 + 60


def test_seconds_until_quota_reset_counts_to_pacific_midnight():
    evening = datetime(2026, 11, 20, 22, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert seconds_until_quota_reset(evening) == 2 * 3600 + 60


def test_an_invalid_key_is_permanent(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/key_invalid.json", status=400))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(youtube_source(recorded_server), {})

    assert "API key was refused" in str(raised.value) and "API_KEY_INVALID" in str(raised.value)


def test_comments_disabled_is_permanent_and_names_the_video(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/comments_disabled.json", status=403))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(youtube_source(recorded_server), {})

    assert VIDEO in str(raised.value) and "commentsDisabled" in str(raised.value)
    assert "<" not in str(raised.value)


def test_a_401_is_permanent(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/unauthorized.json", status=401))

    with pytest.raises(PermanentError, match="401"):
        connector.fetch(youtube_source(recorded_server), {})


def test_a_403_with_an_html_body_is_permanent_with_a_plain_reason(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("common/forbidden.html", status=403))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(youtube_source(recorded_server), {})

    assert "403" in str(raised.value) and "Access denied by the edge firewall" in str(raised.value)
    assert "<" not in str(raised.value)


def test_a_429_honours_retry_after(recorded_server, connector):
    recorded_server.route(
        "GET", THREADS, Reply.fixture("youtube/rate_limited.json", status=429, headers={"Retry-After": "45"})
    )

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(youtube_source(recorded_server), {})

    assert raised.value.retry_after == 45


def test_malformed_json_is_temporary(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("common/truncated.json"))

    with pytest.raises(TemporaryError, match="not valid JSON"):
        connector.fetch(youtube_source(recorded_server), {})


def test_a_malformed_thread_is_skipped(recorded_server, connector):
    recorded_server.route(
        "GET",
        THREADS,
        Reply.json(
            {"items": [{"id": "broken", "snippet": {}}, {"id": "x", "snippet": {"topLevelComment": None}}]}
        ),
    )

    items, _ = connector.fetch(youtube_source(recorded_server), {})

    assert items == []


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"video_ids": [VIDEO]}, "api_key"),
        ({"api_key": "k"}, "video_ids"),
        ({"api_key": "k", "video_ids": ["not a video"]}, "video_ids"),
        ({"api_key": "k", "channel_id": "acme"}, "channel_id"),
        ({"api_key": "k", "video_ids": [VIDEO], "base_url": "gopher://x"}, "base_url"),
    ],
)
def test_validate_config_names_the_bad_field(connector, config, field):
    with pytest.raises(ValidationError) as raised:
        connector.validate_config(config)
    assert field in raised.value.message_dict


def test_validate_config_accepts_video_urls(connector):
    cleaned = connector.validate_config(
        {
            "api_key": "k",
            "video_ids": f"https://www.youtube.com/watch?v={VIDEO}&t=3, https://youtu.be/{VIDEO}",
        }
    )
    assert cleaned["video_ids"] == [VIDEO]


def test_a_channel_discussion_without_a_video_links_to_the_channel(recorded_server, connector):
    recorded_server.route("GET", THREADS, Reply.fixture("youtube/threads_channel_discussion.json"))
    source = youtube_source(recorded_server, video_ids=[], channel_id="UCacmeairacmeairacmeair0")

    items, _ = connector.fetch(source, {})

    by_id = {i.external_id: i for i in items}
    assert by_id["yt:UgyD001"].url == "https://www.youtube.com/channel/UCacmeairacmeairacmeair0"
    assert by_id["yt:UgyD002"].url == "https://www.youtube.com/watch?v=acmeVideo01&lc=UgyD002"


def test_a_comment_without_a_video_or_a_valid_channel_has_no_url():
    thread = {
        "id": "UgyX",
        "snippet": {
            "channelId": "not-a-channel",
            "topLevelComment": {
                "id": "UgyX",
                "snippet": {"textOriginal": "hi", "publishedAt": "2026-12-01T10:00:00Z"},
            },
        },
    }

    assert thread_to_item(thread).url == ""
