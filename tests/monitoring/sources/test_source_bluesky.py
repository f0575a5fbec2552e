"""Bluesky: the Jetstream consumer against a websocket server on 127.0.0.1 sending recorded frames,
and the connector's local term matching."""

from __future__ import annotations

import json
import threading
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from websockets.sync.server import serve

from crisisdesk.models import AuditRecord
from monitoring.models import Mention, SourceHealth
from monitoring.sources import get_connector
from monitoring.sources.bluesky import TermMatcher, fold
from monitoring.sources.bluesky_stream import (
    CURSOR_REWIND_US,
    JetstreamConsumer,
    max_lateness_us,
    resume_cursor,
    subscribe_url,
)
from tests.factories import SourceFactory, WatchFactory
from tests.recorded_server import RECORDED

T = 1795169400_000000
FRAMES = (RECORDED / "jetstream" / "frames.jsonl").read_text(encoding="utf-8").splitlines()
FRAMES_AFTER = (RECORDED / "jetstream" / "frames_after.jsonl").read_text(encoding="utf-8").splitlines()
FIRST_MATCHES = {
    "at://did:plc:alice000000000000000000/app.bsky.feed.post/3lbaaa0000002",
    "at://did:plc:ayse0000000000000000000/app.bsky.feed.post/3lbaaa0000004",
    "at://did:plc:mallory000000000000000000/app.bsky.feed.post/3lbaaa0000009",
    "at://did:plc:budi0000000000000000000/app.bsky.feed.post/3lbaaa0000010",
    "at://did:plc:zofia000000000000000000/app.bsky.feed.post/3lbaaa0000011",
}
AFTER_MATCH = "at://did:plc:dave00000000000000000000/app.bsky.feed.post/3lbaaa0000013"


FRAMES_RICH = (RECORDED / "jetstream" / "frames_rich.jsonl").read_text(encoding="utf-8").splitlines()
# In the order a connection delivered them: a little out of time_us order.
FRAMES_LATE = (RECORDED / "jetstream" / "frames_late.jsonl").read_text(encoding="utf-8").splitlines()


def _time_us(frame: str) -> int:
    return int(json.loads(frame)["time_us"])


class Relay:
    """Jetstream's replay: a connection asking for ``cursor`` gets every event of the corpus with
    ``time_us`` at or after it, in time order; without a cursor, the corpus as delivered live."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames

    def __call__(self, query: dict[str, list[str]]) -> list[str]:
        if "cursor" not in query:
            return self.frames
        cursor = int(query["cursor"][0])
        return sorted((f for f in self.frames if _time_us(f) >= cursor), key=_time_us)


class JetstreamServer:
    """A websocket server on 127.0.0.1: connection N gets ``scripts[N]`` = (frames, then close?);
    the frames may be a ``Relay``, which answers the connection's query."""

    def __init__(self, scripts: list[tuple[list[str] | Relay, bool]]) -> None:
        self.scripts = scripts
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/subscribe"

    def queries(self) -> list[dict[str, list[str]]]:
        return [parse_qs(urlsplit(path).query) for path in self.paths]

    def _handle(self, connection) -> None:
        with self._lock:
            index = len(self.paths)
            self.paths.append(connection.request.path)
        frames, close = self.scripts[index] if index < len(self.scripts) else ([], False)
        if isinstance(frames, Relay):
            frames = frames(parse_qs(urlsplit(connection.request.path).query))
        for frame in frames:
            connection.send(frame)
        if close:
            connection.close()
            return
        for _ in connection:  # hold the connection open until the consumer leaves
            pass

    def __enter__(self) -> JetstreamServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def consumer(server: JetstreamServer) -> JetstreamConsumer:
    return JetstreamConsumer(url=server.url, flush_seconds=0.05, cursor_seconds=0.2, initial_backoff=0.05)


@pytest.fixture
def bluesky_source(db):
    watch = WatchFactory(name="Acme Air", include_terms=["Acme Air", "acme"], exclude_terms=["hiring"])
    return SourceFactory(watch=watch, kind="bluesky", name="Bluesky", config={})


@pytest.mark.django_db
def test_it_ingests_matching_posts_and_saves_the_cursor(bluesky_source):
    with JetstreamServer([(FRAMES, False)]) as server:
        stats = consumer(server).run(stop_after=0.8)

    assert (
        set(Mention.objects.filter(source=bluesky_source).values_list("external_id", flat=True))
        == FIRST_MATCHES
    )
    assert server.queries()[0] == {"wantedCollections": ["app.bsky.feed.post"]}
    bluesky_source.refresh_from_db()
    assert bluesky_source.cursor == {"time_us": T + 12000}
    assert bluesky_source.health == SourceHealth.OK
    assert bluesky_source.last_success_at is not None
    assert (stats.connections, stats.events, stats.posts, stats.matched, stats.malformed) == (1, 12, 7, 5, 1)
    turkish = Mention.objects.get(external_id__endswith="/3lbaaa0000004")
    assert turkish.language == "tr"
    assert turkish.url == "https://bsky.app/profile/did:plc:ayse0000000000000000000/post/3lbaaa0000004"
    assert turkish.author == "did:plc:ayse0000000000000000000"
    assert turkish.published_at.isoformat() == "2026-11-20T10:10:00+00:00"


@pytest.mark.django_db
def test_a_post_with_a_script_is_stored_as_inert_text(bluesky_source):
    with JetstreamServer([(FRAMES, False)]) as server:
        consumer(server).run(stop_after=0.6)

    stored = Mention.objects.get(external_id__endswith="/3lbaaa0000009")
    # Matched through its link card; the typed <script> is kept as the characters the author typed
    # (pages escape it), so the record of what was said is exact.
    assert "Acme Air data leak confirmed" in stored.text
    assert stored.text.startswith("<script>alert(1)</script> look at this")


def test_the_connector_keeps_typed_markup_as_characters():
    connector = get_connector("bluesky")
    event = {
        "did": "did:plc:x",
        "time_us": T,
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": "3k",
            "record": {"text": "<script>alert(1)</script> acme", "createdAt": "2026-11-20T10:00:00Z"},
        },
    }

    item = connector.item_for(event, TermMatcher.build(["acme"]))

    assert item.text == "<script>alert(1)</script> acme"


@pytest.mark.django_db
def test_a_restart_resumes_from_the_saved_cursor(bluesky_source):
    bluesky_source.cursor = {"time_us": T + 12000}
    bluesky_source.save(update_fields=["cursor"])

    with JetstreamServer([(FRAMES_AFTER, False)]) as server:
        consumer(server).run(stop_after=0.6)

    # Rewound by CURSOR_REWIND_US: events still in flight below the saved cursor are replayed.
    assert server.queries()[0]["cursor"] == [str(T + 12000 - CURSOR_REWIND_US)]
    assert list(Mention.objects.values_list("external_id", flat=True)) == [AFTER_MATCH]
    bluesky_source.refresh_from_db()
    assert bluesky_source.cursor == {"time_us": T + 14000}


@pytest.mark.django_db
def test_a_dropped_connection_reconnects_from_its_cursor_and_stores_each_post_once(bluesky_source):
    # The second connection replays the first's frames (as a relay may after a resume) and more.
    with JetstreamServer([(FRAMES, True), (FRAMES + FRAMES_AFTER, False)]) as server:
        stats = consumer(server).run(stop_after=1.2)

    assert stats.connections == 2
    assert len(stats.errors) == 1
    assert "cursor" not in server.queries()[0]
    assert server.queries()[1]["cursor"] == [str(T + 12000 - CURSOR_REWIND_US)]
    external_ids = list(Mention.objects.values_list("external_id", flat=True))
    assert sorted(external_ids) == sorted([*FIRST_MATCHES, AFTER_MATCH])
    bluesky_source.refresh_from_db()
    assert bluesky_source.health == SourceHealth.OK
    assert bluesky_source.cursor == {"time_us": T + 14000}
    flips = AuditRecord.objects.filter(action="source.health", object_id=str(bluesky_source.pk)).order_by(
        "id"
    )
    assert [f.after["health"] for f in flips] == ["ok", "degraded", "ok"]


@pytest.mark.django_db
def test_an_unreachable_stream_marks_the_sources_degraded(bluesky_source):
    stats = JetstreamConsumer(url="ws://127.0.0.1:9/subscribe", initial_backoff=0.05).run(stop_after=0.5)

    bluesky_source.refresh_from_db()
    assert stats.connections == 0 and stats.errors
    assert bluesky_source.health == SourceHealth.DEGRADED
    assert "Jetstream 127.0.0.1:9" in bluesky_source.last_error
    assert bluesky_source.consecutive_failures >= 1


@pytest.mark.django_db
def test_without_active_bluesky_sources_it_does_not_connect(bluesky_source):
    bluesky_source.is_active = False
    bluesky_source.save(update_fields=["is_active"])

    with JetstreamServer([(FRAMES, False)]) as server:
        stats = JetstreamConsumer(url=server.url, reload_seconds=0.1).run(stop_after=0.4)

    assert server.paths == []
    assert stats.connections == 0


@pytest.mark.django_db
def test_each_source_gets_only_its_own_matches(bluesky_source):
    other = SourceFactory(
        watch=WatchFactory(name="Zabka", include_terms=["Żabka"]),
        kind="bluesky",
        name="Bluesky PL",
        config={},
    )
    silent = SourceFactory(
        watch=WatchFactory(name="Nothing", include_terms=[]), kind="bluesky", name="B", config={}
    )

    with JetstreamServer([(FRAMES, False)]) as server:
        consumer(server).run(stop_after=0.6)

    assert list(Mention.objects.filter(source=other).values_list("external_id", flat=True)) == [
        "at://did:plc:zofia000000000000000000/app.bsky.feed.post/3lbaaa0000011"
    ]
    assert not Mention.objects.filter(source=silent).exists()  # no terms: never the whole firehose
    assert Mention.objects.filter(source=bluesky_source).count() == 5


@pytest.mark.django_db
def test_the_management_command_runs_for_a_while_and_reports(bluesky_source):
    out = StringIO()
    with JetstreamServer([(FRAMES, False)]) as server:
        call_command("consume_jetstream", "--once-for", "0.6", "--url", server.url, stdout=out)

    assert "connections=1 events=12 posts=7 matched=5 created=5" in out.getvalue()


def test_the_management_command_refuses_a_bad_duration():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--once-for"):
        call_command("consume_jetstream", "--once-for", "0")


def test_subscribe_url_keeps_other_parameters_and_sets_the_cursor():
    url = subscribe_url("wss://jetstream.example/subscribe?compress=false&cursor=1", 1795169400000000)
    assert url == (
        "wss://jetstream.example/subscribe?compress=false&wantedCollections=app.bsky.feed.post&cursor=1795169400000000"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACME AİR'ın müşteri hizmetleri", True),  # Turkish dotted capital İ
        ("acme aır rezalet", True),  # dotless ı typed for i
        ("Pelayanan acmenya parah", True),  # Indonesian suffix
        ("Acme'nin uçağı", True),  # Turkish suffix after an apostrophe
        ("#AcmeAir down again", True),
        ("bacme is a different word", False),
        ("Acme Air is hiring", False),  # exclude term
        ("Acme Air is HİRİNG", False),  # exclude term, Turkish capitals
        ("", False),
    ],
)
def test_matching_is_case_and_script_aware(text, expected):
    matcher = TermMatcher.build(["Acme Air", "acme"], ["hiring"])
    assert matcher.matches(text) is expected


def test_matching_ignores_diacritics_people_leave_out():
    matcher = TermMatcher.build(["Żabka", "Şişecam"])
    assert matcher.matches("zabka znowu zamknięta")
    assert matcher.matches("SISECAM hisseleri düştü")
    assert matcher.matches("ŻABKA")
    assert fold("Łódź İzmir ß") == "lodz izmir ss"


def test_post_tags_are_a_hint_that_never_drops_a_post():
    matcher = TermMatcher.build(["acme"], languages=["tr", "pl"])
    assert matcher.matches("acme", ["en", "pl"]) and matcher.language_for(["en", "pl"]) == "pl"
    # Tagged with a language the watch doesn't list: kept, the tag passed on for the scorer to
    # check (ingest drops it only if its text shows another language).
    assert matcher.matches("acme", ["en"]) and matcher.language_for(["en"]) == "en"
    assert matcher.matches("acme", []) and matcher.language_for([]) == ""


def test_a_matcher_without_terms_matches_nothing():
    assert not TermMatcher.build([]).matches("anything at all")


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"terms": [""] * 0 + ["x" * 101]}, "terms"),
        ({"terms": ["acme"], "exclude_terms": [42]}, "exclude_terms"),
        ({"terms": ["!!!", "acme"]}, "terms"),
        ({"terms": {"acme": 1}}, "terms"),
    ],
)
def test_validate_config_names_the_bad_field(config, field):
    with pytest.raises(ValidationError) as raised:
        get_connector("bluesky").validate_config(config)
    assert field in raised.value.message_dict


def test_validate_config_cleans_term_lists():
    cleaned = get_connector("bluesky").validate_config(
        {"terms": "Acme Air, acme\nAcme Air", "exclude_terms": None}
    )
    assert cleaned == {"terms": ["Acme Air", "acme"], "exclude_terms": []}


# --- resuming: events arrive a little out of time_us order -------------------------------------


def test_the_recorded_corpus_is_out_of_order_by_less_than_the_rewind():
    lateness = max_lateness_us(_time_us(frame) for frame in FRAMES_LATE)

    assert lateness == 29_723  # the corpus's own figure, documented beside CURSOR_REWIND_US
    rewind = CURSOR_REWIND_US
    assert rewind >= max(1_000_000, 100 * lateness)


def test_max_lateness_is_zero_for_frames_in_order():
    assert max_lateness_us([1, 2, 2, 5]) == 0
    assert max_lateness_us([10, 30, 20, 40, 5]) == 35
    assert max_lateness_us([]) == 0


@pytest.mark.parametrize("cut", range(1, len(FRAMES_LATE)))
def test_a_resume_after_any_frame_asks_for_every_frame_not_yet_delivered(cut):
    delivered, undelivered = FRAMES_LATE[:cut], FRAMES_LATE[cut:]
    highest = max(_time_us(frame) for frame in delivered)

    cursor = resume_cursor(highest)

    assert cursor <= min(_time_us(frame) for frame in undelivered)


def test_resume_cursor_is_live_without_a_position_and_never_below_one():
    assert resume_cursor(None) is None
    assert resume_cursor(0) is None
    assert resume_cursor(1_000) == 1


@pytest.mark.django_db
def test_a_reconnect_replays_the_late_posts_a_resume_at_the_highest_time_would_skip(bluesky_source):
    cut = 20
    delivered = FRAMES_LATE[:cut]
    highest = max(_time_us(frame) for frame in delivered)
    matching = {
        f"at://{event['did']}/app.bsky.feed.post/{event['commit']['rkey']}"
        for event in map(json.loads, FRAMES_LATE)
        if "Acme Air" in event["commit"]["record"]["text"]
    }
    late = "at://did:plc:late0220000000000000/app.bsky.feed.post/3lclate00022"
    # The defect, shown with the same relay: a resume at the highest time_us seen never gets it.
    skipped = Relay(FRAMES_LATE)({"cursor": [str(highest)]})
    assert late in matching and not any("3lclate00022" in frame for frame in skipped)

    with JetstreamServer([(delivered, True), (Relay(FRAMES_LATE), False)]) as server:
        stats = consumer(server).run(stop_after=1.5)

    assert stats.connections == 2
    assert server.queries()[1]["cursor"] == [str(highest - CURSOR_REWIND_US)]
    stored = list(Mention.objects.filter(source=bluesky_source).values_list("external_id", flat=True))
    assert sorted(stored) == sorted(matching)  # the late post too, and each post once
    assert stats.duplicates > 0  # the rewound replay repeated posts ingest already had


# --- matching what people see and what the post carries -------------------------------------


@pytest.fixture
def rich_events():
    return {json.loads(frame)["commit"]["rkey"]: json.loads(frame) for frame in FRAMES_RICH}


def test_a_brand_only_in_a_shortened_links_full_url_matches(rich_events):
    connector = get_connector("bluesky")
    event = rich_events["3lcrich00001"]

    item = connector.item_for(event, TermMatcher.build(["Acme Air"]))

    assert item is not None
    # The stored text is what people see, the shortened link included; the full URL is matched.
    assert item.text == event["commit"]["record"]["text"]
    assert item.match_extras == ("https://news.example/2026/12/01/refunds-acme-air-passengers-left-waiting",)


@pytest.mark.parametrize(
    ("rkey", "extra"),
    [
        ("3lcrich00002", "Departure board: every Acme Air flight cancelled"),
        ("3lcrich00003", "Acme Air queue at the service desk"),
        ("3lcrich00005", "Passengers chanting at the Acme Air counter"),
        ("3lcrich00004", "https://www.acmeair.example/press/statement-on-delays"),
    ],
)
def test_alt_text_and_card_urls_are_matched_but_not_shown(rich_events, rkey, extra):
    connector = get_connector("bluesky")
    record = rich_events[rkey]["commit"]["record"]

    item = connector.item_for(rich_events[rkey], TermMatcher.build(["Acme Air", "acmeair"]))

    assert item is not None
    assert extra in item.match_extras
    assert extra not in item.text
    assert item.text.startswith(record["text"])


def test_a_post_without_the_brand_anywhere_does_not_match(rich_events):
    connector = get_connector("bluesky")

    assert connector.item_for(rich_events["3lcrich00006"], TermMatcher.build(["Acme Air"])) is None


def test_a_card_beside_a_quoted_post_is_part_of_the_visible_text():
    record = {
        "text": "look",
        "embed": {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"$type": "app.bsky.embed.record", "record": {"uri": "at://x/y/z", "cid": "c"}},
            "media": {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": "https://acme.example/",
                    "title": "Acme Air statement",
                    "description": "",
                },
            },
        },
    }
    connector = get_connector("bluesky")

    assert connector.post_text(record) == "look\nAcme Air statement"
    assert connector.post_extras(record) == ["https://acme.example/"]


def test_malformed_facets_and_embeds_are_ignored():
    record = {
        "text": "acme",
        "facets": [
            None,
            {"features": "x"},
            {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": 5}]},
        ],
        "embed": {"$type": "app.bsky.embed.images", "images": [None, {"alt": ["x"]}]},
    }

    assert get_connector("bluesky").post_extras(record) == []


@pytest.mark.django_db
def test_brands_named_only_in_links_or_alt_text_are_ingested_end_to_end(bluesky_source):
    with JetstreamServer([(FRAMES_RICH, False)]) as server:
        consumer(server).run(stop_after=0.8)

    stored = dict(Mention.objects.filter(source=bluesky_source).values_list("external_id", "text"))
    prefix = "at://did:plc:"
    assert set(stored) == {
        f"{prefix}linkonly0000000000000000/app.bsky.feed.post/3lcrich00001",
        f"{prefix}alttext00000000000000000/app.bsky.feed.post/3lcrich00002",
        f"{prefix}quotemedia000000000000000/app.bsky.feed.post/3lcrich00003",
        f"{prefix}cardurl00000000000000000/app.bsky.feed.post/3lcrich00004",
        f"{prefix}video000000000000000000000/app.bsky.feed.post/3lcrich00005",
    }  # not the unrelated post, nor the spam link the watch excludes ("hiring")
    assert stored[f"{prefix}alttext00000000000000000/app.bsky.feed.post/3lcrich00002"] == (
        "this is what six hours at the gate looks like"
    )


@pytest.mark.django_db
def test_a_post_that_cannot_be_read_is_counted_malformed_and_the_stream_goes_on(bluesky_source):
    broken = json.loads(FRAMES_RICH[1])
    broken["commit"]["record"]["langs"] = 5  # not a list of tags
    frames = [json.dumps(broken), FRAMES_RICH[0]]

    with JetstreamServer([(frames, False)]) as server:
        stats = consumer(server).run(stop_after=0.6)

    assert (stats.events, stats.posts, stats.malformed, stats.created) == (2, 1, 1, 1)


def test_one_read_post_serves_every_sources_matcher(rich_events):
    connector = get_connector("bluesky")
    post = connector.read_post(rich_events["3lcrich00002"])
    matchers = [TermMatcher.build(["Acme Air"]), TermMatcher.build(["Zabka"]), TermMatcher.build(["acme"])]

    found = [connector.item_for_post(post, matcher) is not None for matcher in matchers]

    assert found == [True, False, True]
    assert "Departure board" in post.match_text and post.folded == fold(post.match_text)
