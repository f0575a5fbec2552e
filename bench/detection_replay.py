"""Replay CrisisLex timestamp files through the real detection code and measure alert delay.

    python bench/detection_replay.py ../shared/data/crisislex

For every event folder (``*-tweetids_entire_period.csv.gz`` beside an ``onsets.csv``) each tweet's
timestamp is counted into 5-minute buckets as it arrives, and the default volume-spike rule
(``monitoring.detection.defaults.default_rules_for``) is evaluated by its production evaluator after each
arrival — as ``detect_for_watch`` does after each scoring batch — with the rule's cooldown. Prints
minutes from onset to the first alert and false alarms before onset per event, then
``events=N alerted=N median_delay_min=X false_alarms=N``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
os.environ["DATABASE_URL"] = "sqlite://:memory:"  # the evaluators are pure: no database is touched

import django

django.setup()

from monitoring.detection.defaults import default_rules_for  # noqa: E402
from monitoring.detection.evaluators import Context, Series, evaluate, in_cooldown  # noqa: E402
from monitoring.intake.buckets import bucket_start  # noqa: E402
from monitoring.models import RuleKind  # noqa: E402

HORIZON = timedelta(hours=12)  # stop looking for the first alert this long after onset


def read_onsets(data_dir: Path) -> dict[str, datetime]:
    with open(data_dir / "onsets.csv", newline="") as fh:
        return {
            row["event"].strip(): datetime.strptime(row["onset_utc"].strip(), "%Y-%m-%d %H:%M").replace(
                tzinfo=UTC
            )
            for row in csv.DictReader(fh)
        }


def read_timestamps(path: Path) -> list[datetime]:
    with gzip.open(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        return sorted(datetime.strptime(row[0].strip(), "%a %b %d %H:%M:%S %z %Y") for row in reader if row)


def replay(timestamps: list[datetime], onset: datetime) -> tuple[float | None, int]:
    """(minutes from onset to the first alert at or after onset, alerts before onset)."""
    rule = next(r for r in default_rules_for(None) if r.kind == RuleKind.VOLUME_SPIKE)
    series = Series()
    ctx = Context(series=series)
    false_alarms = 0
    for moment in timestamps:
        if moment > onset + HORIZON:
            break
        series.point(bucket_start(moment)).volume += 1
        if in_cooldown(rule, moment):
            continue
        if evaluate(rule, ctx, moment) is None:
            continue
        rule.last_fired_at = moment
        if moment < onset:
            false_alarms += 1
        else:
            return (moment - onset).total_seconds() / 60, false_alarms
    return None, false_alarms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder with onsets.csv and one folder per event")
    args = parser.parse_args(argv)
    if not (args.data_dir / "onsets.csv").exists():
        print(f"no onsets.csv in {args.data_dir}: nothing to replay", file=sys.stderr)
        return 2
    onsets = read_onsets(args.data_dir)
    delays: list[float] = []
    events = alerted = total_false = 0
    for event_dir in sorted(p for p in args.data_dir.iterdir() if p.is_dir()):
        files = sorted(event_dir.glob("*-tweetids_entire_period.csv.gz"))
        if not files or event_dir.name not in onsets:
            continue
        events += 1
        delay, false_alarms = replay(read_timestamps(files[0]), onsets[event_dir.name])
        total_false += false_alarms
        if delay is not None:
            alerted += 1
            delays.append(delay)
        shown = f"{delay:.1f}" if delay is not None else "none"
        print(f"{event_dir.name}: delay_min={shown} false_alarms={false_alarms}")
    median = statistics.median(delays) if delays else float("nan")
    print(f"events={events} alerted={alerted} median_delay_min={median:.1f} false_alarms={total_false}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
