"""Mastodon hashtag timelines, against recorded answers served from 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from monitoring.intake.polling import poll_source
from monitoring.models import Mention, SourceHealth
from monitoring.sources import get_connector
from monitoring.sources.base import PermanentError, TemporaryError
from tests.factories import SourceFactory
from tests.recorded_server import Reply

TAG_PATH = "/api/v1/timelines/tag/acmeair"


@pytest.fixture
def connector():
    return get_connector("mastodon")


def mastodon_source(server, **config):
    config = {"instances": [server.url], "tags": ["acmeair"], **config}
    return SourceFactory.build(kind="mastodon", config=config)


def test_it_maps_a_page_of_statuses(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/tag_acmeair_page1.json"))

    items, cursor = connector.fetch(mastodon_source(recorded_server), {})

    assert [i.external_id for i in items] == [
        "https://mastodon.example/users/ayse/statuses/113500000000000003",
        "https://social.example.pl/users/kasia/statuses/113500000000000002",
        "https://mastodon.example/users/mallory/statuses/113500000000000001",
    ]
    turkish = items[0]
    assert turkish.text == "Acme Air uçuşum yine iptal oldu, #acmeair rezalet & para iadesi yok!"
    assert turkish.language == "tr"
    assert turkish.author == f"@ayse@{urlsplit(recorded_server.url).netloc}"
    assert turkish.author_reach == 1520
    assert turkish.engagement == 4 + 2 + 1
    assert turkish.url == "https://mastodon.example/@ayse/113500000000000003"
    assert turkish.published_at.isoformat() == "2026-11-20T10:05:00+00:00"
    assert items[1].author == "@kasia@social.example.pl"
    assert items[1].text == "Lot Acme Air opóźniony o 5 godzin. Nikt nic nie mówi.\nŻenada."
    assert cursor == {"min_id": {f"{recorded_server.url}#acmeair": "113500000000000003"}}
    request = recorded_server.requests_to(TAG_PATH)[0]
    assert request.param("limit") == "40"
    assert request.param("min_id") is None
    assert request.headers["user-agent"].startswith("CrisisDesk/")


def test_a_script_in_a_status_comes_out_as_plain_text(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/tag_acmeair_page1.json"))

    items, _ = connector.fetch(mastodon_source(recorded_server), {})

    hostile = items[2]
    # The escaped text the user typed stays visible as characters; the real <script> element is gone.
    assert hostile.text == "<script>alert(1)</script> #acmeair lost my bag"
    assert 'alert("xss")' not in hostile.text
    assert "<a " not in hostile.text and "<p>" not in hostile.text


def test_the_cursor_advances_and_nothing_is_returned_twice(recorded_server, connector):
    recorded_server.route(
        "GET",
        TAG_PATH,
        Reply.fixture("mastodon/tag_acmeair_page1.json"),
        Reply.fixture("mastodon/tag_acmeair_page2.json"),
        Reply.json([]),
    )
    source = mastodon_source(recorded_server)

    first, cursor = connector.fetch(source, {})
    second, cursor = connector.fetch(source, cursor)
    third, cursor = connector.fetch(source, cursor)

    assert len(first) == 3
    assert [i.external_id for i in second] == ["https://other.example/users/bob/statuses/113500000000000004"]
    assert second[0].text == "airline rant\nAcme Air finally answered on the phone. Refund promised."
    assert second[0].language == ""
    assert third == []
    assert cursor["min_id"][f"{recorded_server.url}#acmeair"] == "113500000000000004"
    requests = recorded_server.requests_to(TAG_PATH)
    assert [r.param("min_id") for r in requests] == [None, "113500000000000003", "113500000000000004"]


def test_an_empty_timeline_is_no_items_and_keeps_the_cursor(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.json([]))
    key = f"{recorded_server.url}#acmeair"

    items, cursor = connector.fetch(mastodon_source(recorded_server), {"min_id": {key: "99"}})

    assert items == []
    assert cursor == {"min_id": {key: "99"}}


def test_a_full_page_is_followed_forward_within_one_fetch(recorded_server, connector):
    full_page = [
        {
            "id": str(1000 + n),
            "uri": f"https://m.example/s/{1000 + n}",
            "created_at": "2026-11-20T10:00:00Z",
            "content": f"<p>acme {n}</p>",
            "account": {"acct": "a", "followers_count": 1},
        }
        for n in range(40, 0, -1)
    ]
    recorded_server.route("GET", TAG_PATH, Reply.json(full_page), Reply.json([]))

    items, cursor = connector.fetch(
        mastodon_source(recorded_server), {"min_id": {f"{recorded_server.url}#acmeair": "1000"}}
    )

    assert len(items) == 40
    assert [r.param("min_id") for r in recorded_server.requests_to(TAG_PATH)] == ["1000", "1040"]
    assert cursor["min_id"][f"{recorded_server.url}#acmeair"] == "1040"


def test_a_401_from_a_closed_instance_is_a_permanent_error_naming_it(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/unauthorized.json", status=401))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(mastodon_source(recorded_server), {})

    message = str(raised.value)
    assert "127.0.0.1" in message and "#acmeair" in message
    assert "401" in message and "requires an authenticated user" in message


def test_a_403_with_an_html_body_is_permanent_with_a_plain_reason(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("common/forbidden.html", status=403))

    with pytest.raises(PermanentError) as raised:
        connector.fetch(mastodon_source(recorded_server), {})

    message = str(raised.value)
    assert "403" in message and "Access denied by the edge firewall" in message
    assert "<" not in message and "alert" not in message


def test_a_429_honours_retry_after(recorded_server, connector):
    recorded_server.route(
        "GET",
        TAG_PATH,
        Reply.fixture("mastodon/rate_limited.json", status=429, headers={"Retry-After": "120"}),
    )

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(mastodon_source(recorded_server), {})

    assert raised.value.retry_after == 120
    assert "429" in str(raised.value)


def test_a_429_without_retry_after_waits_for_the_rate_limit_reset_time(recorded_server, connector):
    reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    recorded_server.route(
        "GET",
        TAG_PATH,
        Reply.fixture(
            "mastodon/rate_limited.json",
            status=429,
            headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        ),
    )

    with pytest.raises(TemporaryError) as raised:
        connector.fetch(mastodon_source(recorded_server), {})

    assert 280 <= raised.value.retry_after <= 300


def test_malformed_json_is_a_temporary_error(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("common/truncated.json"))

    with pytest.raises(TemporaryError, match="not valid JSON"):
        connector.fetch(mastodon_source(recorded_server), {})


def test_a_malformed_status_is_skipped_not_fatal(recorded_server, connector):
    recorded_server.route(
        "GET",
        TAG_PATH,
        Reply.json(
            [
                {
                    "id": "7",
                    "uri": "https://m.example/s/7",
                    "content": "<p>acme ok</p>",
                    "created_at": "2026-11-20T10:00:00Z",
                },
                {"id": "6", "content": "no date"},
            ]
        ),
    )

    items, cursor = connector.fetch(mastodon_source(recorded_server), {})

    assert [i.text for i in items] == ["acme ok"]
    assert cursor["min_id"][f"{recorded_server.url}#acmeair"] == "7"


def test_one_failing_instance_fails_the_fetch_without_moving_any_cursor(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/tag_acmeair_page1.json"))
    source = mastodon_source(
        recorded_server, instances=[recorded_server.url, f"{recorded_server.url}/closed"]
    )
    recorded_server.route(
        "GET", f"/closed{TAG_PATH}", Reply.fixture("mastodon/unauthorized.json", status=401)
    )

    with pytest.raises(PermanentError, match="closed"):
        connector.fetch(source, {})


@pytest.mark.django_db
def test_polling_a_closed_instance_shows_on_the_source_health(recorded_server):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/unauthorized.json", status=401))
    source = SourceFactory(kind="mastodon", config={"instances": [recorded_server.url], "tags": ["acmeair"]})

    outcome = poll_source(source_id=source.pk)

    source.refresh_from_db()
    assert outcome.status == "permanent"
    assert source.health == SourceHealth.FAILING
    assert "401" in source.last_error and "#acmeair" in source.last_error
    assert source.cursor == {}


@pytest.mark.django_db
def test_polling_stores_each_status_once(recorded_server):
    recorded_server.route(
        "GET",
        TAG_PATH,
        Reply.fixture("mastodon/tag_acmeair_page1.json"),
        Reply.fixture("mastodon/tag_acmeair_page2.json"),
    )
    source = SourceFactory(kind="mastodon", config={"instances": [recorded_server.url], "tags": ["acmeair"]})

    poll_source(source_id=source.pk)
    source.refresh_from_db()
    source.next_poll_at = source.last_polled_at
    source.save(update_fields=["next_poll_at"])
    poll_source(source_id=source.pk)

    source.refresh_from_db()
    assert source.health == SourceHealth.OK
    assert Mention.objects.filter(source=source).count() == 4
    assert source.cursor["min_id"][f"{recorded_server.url}#acmeair"] == "113500000000000004"
    stored = Mention.objects.get(external_id__endswith="/113500000000000003")
    assert (stored.language, stored.author_reach, stored.engagement) == ("tr", 1520, 7)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"tags": ["acme"]}, "instances"),
        ({"instances": ["ftp://x.example"], "tags": ["acme"]}, "instances"),
        ({"instances": ["https://x.example"]}, "tags"),
        ({"instances": ["https://x.example"], "tags": ["two words"]}, "tags"),
        ({"instances": ["https://x.example"], "tags": ["acme"], "max_pages": "many"}, "max_pages"),
    ],
)
def test_validate_config_names_the_bad_field(connector, config, field):
    with pytest.raises(ValidationError) as raised:
        connector.validate_config(config)
    assert field in raised.value.message_dict


def test_validate_config_cleans_lists_and_hashes(connector):
    cleaned = connector.validate_config(
        {"instances": "mastodon.social, https://fosstodon.org/", "tags": "#AcmeAir\n#acmeBağış"}
    )
    assert cleaned["instances"] == ["https://mastodon.social", "https://fosstodon.org"]
    assert cleaned["tags"] == ["AcmeAir", "acmeBağış"]


def test_custom_emoji_codes_leave_the_text_and_typed_colons_stay(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/tag_acmeair_emoji_media.json"))

    items, _ = connector.fetch(mastodon_source(recorded_server), {})

    emoji = next(i for i in items if i.external_id.endswith("/113600000000000021"))
    # :toot: and :blobcat_heart: are listed in the status's emojis (shown as images); 12:30:45 is not.
    assert emoji.text == "Acme Air support answered in 5 minutes #acmeair landed at 12:30:45"


def test_alt_text_and_the_link_card_are_matched_not_shown(recorded_server, connector):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/tag_acmeair_emoji_media.json"))

    items, _ = connector.fetch(mastodon_source(recorded_server), {})

    photo = next(i for i in items if i.external_id.endswith("/113600000000000022"))
    assert photo.match_extras == (
        "Striking Acme Air cabin crew with banners",
        "https://news.example/2026/12/01/acme-air-strike",
        "Cabin crew walk out",
    )
    assert "Striking" not in photo.text
    # Mastodon keeps the whole link in the content's invisible spans: the text has it already.
    assert "https://news.example/2026/12/01/acme-air-strike" in photo.text


@pytest.mark.django_db
def test_an_exclude_term_only_in_alt_text_drops_the_status_at_ingest(recorded_server):
    recorded_server.route("GET", TAG_PATH, Reply.fixture("mastodon/tag_acmeair_emoji_media.json"))
    source = SourceFactory(kind="mastodon", config={"instances": [recorded_server.url], "tags": ["acmeair"]})
    source.watch.exclude_terms = ["banners"]
    source.watch.save(update_fields=["exclude_terms"])

    poll_source(source_id=source.pk)

    assert list(Mention.objects.filter(source=source).values_list("text", flat=True)) == [
        "Acme Air support answered in 5 minutes #acmeair landed at 12:30:45"
    ]
