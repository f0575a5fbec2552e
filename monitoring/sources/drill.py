"""Drill replay: plays a recorded crisis (JSONL) into a watch at a chosen speed.

It powers the demo and team drills. Each line of a recording is
``{"offset_s": 12.5, "author": …, "author_reach": …, "engagement": …, "text": …, "language": "en",
"url": …}``. The cursor ``{"started_at": iso, "position": n}`` makes a replay deterministic: a line
is published at ``started_at + offset_s / speed`` with the external id
``drill:<started_at>:<line no>``, so re-polling never duplicates and a reset (empty cursor) replays
cleanly as new mentions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from monitoring.sources.base import Connector, Item, PermanentError

if TYPE_CHECKING:
    from monitoring.models import Source

DEFAULT_SPEED = 20.0
MAX_SPEED = 1000.0
# Recorded seconds between the last line and the first line of the next loop.
LOOP_GAP_S = 60.0


@dataclass(frozen=True)
class DrillLine:
    number: int  # 1-based line number in the file
    offset_s: float
    data: dict[str, Any]


def recording_path(name: str) -> Path:
    """The recording's path inside ``settings.DRILL_DIR``; ValidationError for anything else."""
    name = str(name or "").strip()
    if not name:
        raise ValidationError({"recording": "Choose a recording."})
    if "/" in name or "\\" in name or name.startswith(".") or "\x00" in name or not name.endswith(".jsonl"):
        raise ValidationError({"recording": "Give the file name of a .jsonl recording in the drill folder."})
    base = Path(settings.DRILL_DIR).resolve()
    path = (base / name).resolve()
    if path.parent != base:
        raise ValidationError({"recording": "The recording must be inside the drill folder."})
    if not path.is_file():
        raise ValidationError({"recording": f"No recording named {name!r} in the drill folder."})
    return path


def available_recordings() -> list[str]:
    """File names a drill can play (for the setup page)."""
    base = Path(settings.DRILL_DIR)
    return sorted(path.name for path in base.glob("*.jsonl")) if base.is_dir() else []


def load_recording(path: Path) -> list[DrillLine]:
    """The recording's lines sorted by offset (cached per file version)."""
    stat = path.stat()
    return list(_load(str(path), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> tuple[DrillLine, ...]:
    lines: list[DrillLine] = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                data = json.loads(raw)
                offset = float(data["offset_s"])
            except (ValueError, KeyError, TypeError) as error:
                raise PermanentError(
                    f"{Path(path).name} line {number}: not a drill line ({error})"
                ) from error
            if not isinstance(data.get("text"), str) or offset < 0:
                raise PermanentError(f"{Path(path).name} line {number}: needs text and offset_s >= 0")
            lines.append(DrillLine(number=number, offset_s=offset, data=data))
    lines.sort(key=lambda line: (line.offset_s, line.number))
    return tuple(lines)


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


class DrillConnector(Connector):
    kind = "drill"
    pull = True
    config_fields = {
        "recording": (
            "Recording",
            True,
            "File name of a JSONL recording in the drill folder, e.g. acme_air.jsonl.",
        ),
        "speed": ("Speed", False, "How many times faster than recorded (default 20)."),
        "loop": ("Loop", False, "Start again after the last line."),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = config or {}
        recording_path(config.get("recording", ""))
        try:
            raw_speed = config.get("speed")
            speed = DEFAULT_SPEED if raw_speed is None or raw_speed == "" else float(raw_speed)
        except (TypeError, ValueError):
            raise ValidationError({"speed": "Enter a number such as 20."}) from None
        if not 0 < speed <= MAX_SPEED:
            raise ValidationError({"speed": f"Enter a speed above 0 and at most {MAX_SPEED:g}."})
        loop = config.get("loop", False)
        if isinstance(loop, str):
            loop = loop.strip().lower() in ("1", "true", "yes", "on")
        return {"recording": str(config["recording"]).strip(), "speed": speed, "loop": bool(loop)}

    def fetch(self, source: Source, cursor: dict[str, Any]) -> tuple[list[Item], dict[str, Any]]:
        try:
            config = self.validate_config(source.config)
        except ValidationError as error:
            raise PermanentError(f"The drill's config is invalid: {'; '.join(error.messages)}") from error
        lines = load_recording(recording_path(config["recording"]))
        speed = config["speed"]
        now = timezone.now()
        started_at = parse_datetime(cursor.get("started_at") or "") or now
        position = max(0, int(cursor.get("position") or 0))
        items: list[Item] = []
        while True:
            elapsed_recorded = (now - started_at).total_seconds() * speed
            while position < len(lines) and lines[position].offset_s <= elapsed_recorded:
                items.append(self._item(lines[position], started_at, speed))
                position += 1
            if not (config["loop"] and lines and position >= len(lines)):
                break
            next_start = started_at + timedelta(seconds=(lines[-1].offset_s + LOOP_GAP_S) / speed)
            if next_start > now:
                break
            started_at, position = next_start, 0
        return items, {"started_at": started_at.isoformat(), "position": position, "total": len(lines)}

    @staticmethod
    def _item(line: DrillLine, started_at: datetime, speed: float) -> Item:
        data = line.data
        return Item(
            external_id=f"drill:{started_at.isoformat()}:{line.number}",
            text=data["text"],
            published_at=started_at + timedelta(seconds=line.offset_s / speed),
            url=str(data.get("url") or ""),
            author=str(data.get("author") or ""),
            author_reach=_int(data.get("author_reach")),
            engagement=_int(data.get("engagement")),
            language=str(data.get("language") or ""),
            raw={"drill_line": line.number, "offset_s": line.offset_s},
        )
