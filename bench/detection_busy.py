"""Replay crisis onsets laid over another event's decaying tail: detection on a busy brand stream.

    python bench/detection_busy.py ../shared/data/crisislex [--seed 14] [--factor 5]

The plain replay (``bench/detection_replay.py``) measures streams that are near-silent before the
onset. A brand's stream never is, so this bench composes, deterministically from ``--seed``:

* a **background** from another event's tail, 3 to 11 days after that event's own onset, choosing
  a stretch with no secondary spike (no hour above ``SPIKE_FACTOR`` × the stretch's median hour
  plus ``SPIKE_SLACK``): everyday chatter with its daily cycle and slow decay;
* the background at ×1 and at ×``--factor`` volume (each extra copy of a post jittered by up to
  ``JITTER`` so copies do not land on the same second);
* the **target** event's own posts from a day before its onset to ``HORIZON`` after it, shifted so
  the onset falls ``ONSET_DAYS`` (seeded) into the background.

Every (target, background, volume) triple is one composite. Its timestamps are counted into 5-minute
buckets as they arrive and the default volume-spike rule (``default_rules_for``) is judged by the
production evaluator after each arrival, with the rule's cooldown and its learning period (the
composite watch and its rule are "created" when the background starts). Prints per composite the
delay from onset to the first alert (and the floor: minutes until the target's 5th post after onset,
the earliest any rule with ``min_count`` 5 could fire), the alerts before onset during the learning
period and after it, a line with the totals (and how many alerted within that floor + 5 minutes),
then
``composites=N alerted=N median_delay_min=X false_alarms=N false_alarms_per_day=Y`` where the false
alarms are those after learning and the rate is per pre-onset stream-day after learning.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
os.environ["DATABASE_URL"] = "sqlite://:memory:"  # the evaluators are pure: no database is touched

import django

django.setup()

from bench.detection_replay import read_onsets, read_timestamps  # noqa: E402
from monitoring.detection.defaults import default_rules_for  # noqa: E402
from monitoring.detection.evaluators import Context, Series, evaluate, in_cooldown  # noqa: E402
from monitoring.detection.learning import rule_learning_until  # noqa: E402
from monitoring.intake.buckets import bucket_start  # noqa: E402
from monitoring.models import RuleKind  # noqa: E402

HORIZON = timedelta(hours=12)  # look for the first alert this long after onset
TAIL_FROM, TAIL_TO = timedelta(days=3), timedelta(days=11)  # the background's part of its event
ONSET_DAYS = (4.0, 6.0)  # the onset lands this many days (seeded, uniform) into the background
JITTER = timedelta(minutes=30)
SPIKE_FACTOR, SPIKE_SLACK = 4.0, 6
TARGET_LEAD = timedelta(days=1)  # the target's own posts from this long before its onset
FLOOR_POSTS = 5  # the default min_count: no count rule can fire before the 5th post
FLOOR_GRACE = 5.0  # minutes past that floor still counted as "at the limit"


@dataclass
class Composite:
    name: str
    timestamps: list[datetime]
    start: datetime  # when the composite watch is "created"
    onset: datetime
    floor_min: float  # minutes from onset to the target's FLOOR_POSTS-th post


@dataclass
class Outcome:
    delay_min: float | None
    learning_alarms: int
    false_alarms: int
    days_after_learning: float


def quiet_stretch(
    tail: list[datetime], start: datetime, length: timedelta, rng: random.Random
) -> datetime | None:
    """A seeded start within ``[start, start + TAIL_TO - TAIL_FROM - length]`` whose stretch has no
    hour far above its median hour, or None when every tried start does."""
    room = (TAIL_TO - TAIL_FROM - length).total_seconds()
    if room < 0:
        return None
    for _ in range(20):
        begin = start + timedelta(seconds=rng.uniform(0, room))
        hours = Counter(int((t - begin).total_seconds() // 3600) for t in tail if begin <= t < begin + length)
        counts = [hours.get(h, 0) for h in range(int(length.total_seconds() // 3600))]
        if counts and max(counts) <= SPIKE_FACTOR * statistics.median(counts) + SPIKE_SLACK:
            return begin
    return None


def compose(
    target: list[datetime],
    target_onset: datetime,
    background: list[datetime],
    background_onset: datetime,
    *,
    factor: int,
    rng: random.Random,
    label: str,
) -> Composite | None:
    onset_after = timedelta(days=rng.uniform(*ONSET_DAYS))
    begin = quiet_stretch(background, background_onset + TAIL_FROM, onset_after + HORIZON, rng)
    if begin is None:
        return None
    end = begin + onset_after + HORIZON
    stream: list[datetime] = []
    for moment in background:
        if begin <= moment < end:
            stream.append(moment)
            for _ in range(factor - 1):
                stream.append(moment + timedelta(seconds=rng.uniform(-1, 1) * JITTER.total_seconds()))
    onset = begin + onset_after
    shift = onset - target_onset
    own = [t + shift for t in target if target_onset - TARGET_LEAD <= t < target_onset + HORIZON]
    stream.extend(own)
    stream = sorted(t for t in stream if begin <= t < end)
    after = sorted(t for t in own if t >= onset)
    floor = (
        (after[FLOOR_POSTS - 1] - onset).total_seconds() / 60 if len(after) >= FLOOR_POSTS else float("nan")
    )
    return Composite(label, stream, begin, onset, floor)


def replay(composite: Composite) -> Outcome:
    """Feed the composite's posts one by one into the default volume-spike rule, as production does."""
    rule = next(r for r in default_rules_for(None) if r.kind == RuleKind.VOLUME_SPIKE)
    rule.created_at = composite.start
    learned = rule_learning_until(rule, composite.start) or composite.start
    series = Series()
    ctx = Context(series=series, watch_created_at=composite.start)
    learning_alarms = false_alarms = 0
    for moment in composite.timestamps:
        series.point(bucket_start(moment)).volume += 1
        if in_cooldown(rule, moment) or evaluate(rule, ctx, moment) is None:
            continue
        rule.last_fired_at = moment
        if moment >= composite.onset:
            delay = (moment - composite.onset).total_seconds() / 60
            return Outcome(delay, learning_alarms, false_alarms, _days(learned, composite.onset))
        if moment < learned:
            learning_alarms += 1
        else:
            false_alarms += 1
    return Outcome(None, learning_alarms, false_alarms, _days(learned, composite.onset))


def _days(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 86400)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder with onsets.csv and one folder per event")
    parser.add_argument("--seed", type=int, default=14, help="seed of the composer (default 14)")
    parser.add_argument("--factor", type=int, default=5, help="the louder background's volume (default ×5)")
    args = parser.parse_args(argv)
    if not (args.data_dir / "onsets.csv").exists():
        print(f"no onsets.csv in {args.data_dir}: nothing to compose", file=sys.stderr)
        return 2
    onsets = read_onsets(args.data_dir)
    events: dict[str, list[datetime]] = {}
    for event_dir in sorted(p for p in args.data_dir.iterdir() if p.is_dir()):
        files = sorted(event_dir.glob("*-tweetids_entire_period.csv.gz"))
        if files and event_dir.name in onsets:
            events[event_dir.name] = read_timestamps(files[0])
    rng = random.Random(args.seed)
    delays: list[float] = []
    composites = alerted = total_false = total_learning = at_limit = 0
    days = 0.0
    for target in events:
        for background in events:
            if background == target:
                continue
            for factor in (1, args.factor):
                label = f"{target} over {background} x{factor}"
                composite = compose(
                    events[target],
                    onsets[target],
                    events[background],
                    onsets[background],
                    factor=factor,
                    rng=rng,
                    label=label,
                )
                if composite is None:
                    print(f"{label}: skipped (no background stretch without a secondary spike)")
                    continue
                outcome = replay(composite)
                composites += 1
                total_false += outcome.false_alarms
                total_learning += outcome.learning_alarms
                days += outcome.days_after_learning
                if outcome.delay_min is not None:
                    alerted += 1
                    delays.append(outcome.delay_min)
                    at_limit += outcome.delay_min <= composite.floor_min + FLOOR_GRACE
                shown = f"{outcome.delay_min:.1f}" if outcome.delay_min is not None else "none"
                print(
                    f"{label}: delay_min={shown} floor_min={composite.floor_min:.1f} "
                    f"learning_alarms={outcome.learning_alarms} false_alarms={outcome.false_alarms} "
                    f"days_after_learning={outcome.days_after_learning:.2f}"
                )
    median = statistics.median(delays) if delays else float("nan")
    per_day = total_false / days if days else float("nan")
    print(
        f"learning_alarms={total_learning} stream_days_after_learning={days:.1f} "
        f"within_floor_plus_{FLOOR_GRACE:.0f}_min={at_limit}"
    )
    print(
        f"composites={composites} alerted={alerted} median_delay_min={median:.1f} "
        f"false_alarms={total_false} false_alarms_per_day={per_day:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
