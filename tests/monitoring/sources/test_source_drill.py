"""Drill replay: timing at a chosen speed, positions, restarts, loops and the demo recording."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from crisisdesk.links import safe_url
from monitoring.intake.ingest import ingest_items
from monitoring.intake.polling import poll_source
from monitoring.models import Mention, Source
from monitoring.sources import get_connector
from monitoring.sources.drill import load_recording, recording_path
from tests.factories import SourceFactory, WatchFactory

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def drill_dir(tmp_path, settings):
    settings.DRILL_DIR = tmp_path
    lines = [
        {"offset_s": 0, "author": "@a", "text": "first", "language": "en", "url": "https://x.example/1"},
        {
            "offset_s": 10,
            "author": "@b",
            "author_reach": 5000,
            "engagement": 3,
            "text": "second",
            "language": "tr",
        },
        {"offset_s": 40, "author": "@c", "text": "third"},
    ]
    (tmp_path / "mini.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return tmp_path


@pytest.fixture
def connector():
    return get_connector("drill")


def drill_source(**config):
    return SourceFactory(kind="drill", config={"recording": "mini.jsonl", "speed": 10.0, **config})


def fetch_at(connector, source, cursor, moment):
    with time_machine.travel(moment, tick=False):
        return connector.fetch(source, cursor)


def test_it_plays_the_lines_whose_time_has_come_at_the_chosen_speed(db, drill_dir, connector):
    source = drill_source()

    items, cursor = fetch_at(connector, source, {}, T0)
    assert [i.text for i in items] == ["first"]
    assert cursor == {"started_at": T0.isoformat(), "position": 1, "total": 3}

    items, cursor = fetch_at(connector, source, cursor, T0 + timedelta(seconds=1))  # 10 recorded seconds
    (second,) = items
    assert second.external_id == f"drill:{T0.isoformat()}:2"
    assert second.published_at == T0 + timedelta(seconds=1)
    assert (second.author, second.author_reach, second.engagement, second.language) == ("@b", 5000, 3, "tr")
    assert cursor["position"] == 2

    items, cursor = fetch_at(connector, source, cursor, T0 + timedelta(seconds=3.9))
    assert items == [] and cursor["position"] == 2
    items, cursor = fetch_at(connector, source, cursor, T0 + timedelta(seconds=4))
    assert [i.text for i in items] == ["third"] and cursor["position"] == 3
    items, _ = fetch_at(connector, source, cursor, T0 + timedelta(hours=1))
    assert items == []  # finished, no loop


def test_a_replayed_fetch_from_the_same_cursor_yields_the_same_ids(db, drill_dir, connector):
    source = drill_source()
    _, cursor = fetch_at(connector, source, {}, T0)

    first, _ = fetch_at(connector, source, cursor, T0 + timedelta(seconds=5))
    again, _ = fetch_at(connector, source, cursor, T0 + timedelta(seconds=6))

    assert [i.external_id for i in first] == [i.external_id for i in again]
    ingest_items(source=source, items=first)
    assert ingest_items(source=source, items=again).duplicates == 2


def test_a_restart_replays_as_new_mentions(db, drill_dir, connector):
    source = drill_source()

    def play_from(start):
        first, cursor = fetch_at(connector, source, {}, start)
        rest, _ = fetch_at(connector, source, cursor, start + timedelta(seconds=10))
        return first + rest

    assert ingest_items(source=source, items=play_from(T0)).created == 3
    assert ingest_items(source=source, items=play_from(T0 + timedelta(minutes=5))).created == 3
    assert Mention.objects.filter(source=source).count() == 6


def test_a_looping_drill_starts_again_after_the_last_line(db, drill_dir, connector):
    source = drill_source(loop=True)
    _, cursor = fetch_at(connector, source, {}, T0 + timedelta(seconds=0))
    _, cursor = fetch_at(connector, source, cursor, T0 + timedelta(seconds=4))
    assert cursor["position"] == 3

    # The next loop starts (40 s last offset + 60 s gap) / 10× = 10 s after the first.
    items, cursor = fetch_at(connector, source, cursor, T0 + timedelta(seconds=11))

    second_start = T0 + timedelta(seconds=10)
    assert [i.text for i in items] == ["first", "second"]
    assert items[0].external_id == f"drill:{second_start.isoformat()}:1"
    assert cursor == {"started_at": second_start.isoformat(), "position": 2, "total": 3}


@pytest.mark.parametrize(
    "name",
    ["../settings.py", "/etc/passwd.jsonl", "..\\x.jsonl", ".hidden.jsonl", "mini.json", "missing.jsonl", ""],
)
def test_recordings_outside_the_drill_folder_are_refused(drill_dir, connector, name):
    with pytest.raises(ValidationError) as raised:
        connector.validate_config({"recording": name, "speed": 20})

    assert "recording" in raised.value.message_dict


@pytest.mark.parametrize("speed", [0, -1, "fast", 5000])
def test_the_speed_must_be_a_sensible_number(drill_dir, connector, speed):
    with pytest.raises(ValidationError) as raised:
        connector.validate_config({"recording": "mini.jsonl", "speed": speed})

    assert "speed" in raised.value.message_dict


def test_a_due_drill_source_is_polled_into_mentions(db, drill_dir):
    source = drill_source(speed=1000.0)
    Source.objects.filter(pk=source.pk).update(next_poll_at=T0)

    with time_machine.travel(T0, tick=False):
        first = poll_source(source_id=source.pk)  # the drill starts now: line 1 is at offset 0
    with time_machine.travel(T0 + timedelta(seconds=source.poll_interval), tick=False):
        second = poll_source(source_id=source.pk)

    assert (first.status, first.created, second.status, second.created) == ("ok", 1, "ok", 2)
    source.refresh_from_db()
    assert source.cursor == {"started_at": T0.isoformat(), "position": 3, "total": 3}


def test_drill_replay_creates_and_then_resets_a_drill_source(db, drill_dir):
    watch = WatchFactory(name="Acme Air")
    out = StringIO()

    call_command(
        "drill_replay", "--watch", "Acme Air", "--recording", "mini.jsonl", "--speed", "50", stdout=out
    )
    source = Source.objects.get(watch=watch, kind="drill")
    assert source.config == {"recording": "mini.jsonl", "speed": 50.0, "loop": False}
    assert "mini.jsonl at 50x" in out.getvalue()

    Source.objects.filter(pk=source.pk).update(
        cursor={"started_at": T0.isoformat(), "position": 3}, health="failing"
    )
    call_command("drill_replay", "--watch", "Acme Air", "--recording", "mini.jsonl", stdout=StringIO())
    source.refresh_from_db()
    assert (source.cursor, source.health, source.config["speed"]) == ({}, "unknown", 20.0)
    assert Source.objects.filter(watch=watch).count() == 1


def test_drill_replay_names_what_is_wrong(db, drill_dir):
    WatchFactory(name="Acme Air")

    with pytest.raises(CommandError, match="No watch named 'Nope'"):
        call_command("drill_replay", "--watch", "Nope")
    with pytest.raises(CommandError, match=r"recordings: mini\.jsonl"):
        call_command("drill_replay", "--watch", "Acme Air", "--recording", "../../etc/passwd")


# --- The demo recording ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme_air():
    path = Path(settings.BASE_DIR) / "monitoring" / "drills" / "acme_air.jsonl"
    return load_recording(path)


def test_the_acme_air_recording_is_a_realistic_multilingual_crisis(acme_air):
    assert len(acme_air) >= 150
    assert 33 * 60 <= acme_air[-1].offset_s <= 37 * 60
    languages = Counter(line.data["language"] for line in acme_air)
    assert {"en", "tr", "pl", "id", "ms"} <= set(languages)
    assert languages["en"] > len(acme_air) / 2
    texts = [line.data["text"] for line in acme_air]
    assert len(set(texts)) == len(texts)  # no copy-paste clones
    assert all(safe_url(line.data["url"]) for line in acme_air)
    reaches = sorted(line.data["author_reach"] for line in acme_air)
    assert reaches[-1] >= 1_000_000 and reaches[len(reaches) // 2] < 10_000  # a few loud, most quiet
    assert any("#" in text for text in texts) and any("@" in text for text in texts)


def test_the_acme_air_surge_starts_about_thirty_seconds_into_the_demo(acme_air):
    speed = 20.0
    per_minute = Counter(int(line.offset_s // 60) for line in acme_air)
    quiet = [per_minute[m] for m in range(10)]
    assert sum(quiet) <= 6 and max(quiet) <= 1  # a trickle: about one post every 2–3 minutes

    surge_start = next(line.offset_s for line in acme_air if line.offset_s >= 9.5 * 60)
    assert 27 <= surge_start / speed <= 33  # seconds after the drill starts
    assert sum(per_minute[m] for m in range(10, 15)) >= 15
    assert min(per_minute[m] for m in range(20, 35)) >= 5  # many posts per minute, sustained
    assert max(per_minute.values()) >= 8


def test_the_acme_air_recording_is_under_the_drill_folder_and_valid(db):
    assert recording_path("acme_air.jsonl").name == "acme_air.jsonl"
    assert (
        get_connector("drill").validate_config({"recording": "acme_air.jsonl", "speed": 20})["speed"] == 20.0
    )
