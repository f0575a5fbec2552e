"""The busy-stream bench's composer and replay, on synthetic timestamps (no shared data needed)."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta

# The bench points its own process at an in-memory database; keep that out of this test process's
# environment, which later tests hand to subprocesses.
_environ = dict(os.environ)
from bench import detection_busy  # noqa: E402

os.environ.clear()
os.environ.update(_environ)

ONSET = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def chatter(onset: datetime, *, per_hour: int, days: int = 12) -> list[datetime]:
    """An event's tail: ``per_hour`` posts every hour from its onset on, evenly spread."""
    step = timedelta(hours=1) / per_hour
    return [onset + step * i for i in range(days * 24 * per_hour)]


def surge(onset: datetime) -> list[datetime]:
    """A target: quiet before its onset, then 40 posts in its first ten minutes."""
    return [onset - timedelta(hours=h) for h in range(20, 0, -5)] + [
        onset + timedelta(seconds=15 * i) for i in range(40)
    ]


def test_the_composer_is_seeded_and_puts_the_onset_days_into_the_background():
    background = chatter(ONSET - timedelta(days=30), per_hour=2)
    first = detection_busy.compose(
        surge(ONSET), ONSET, background, ONSET - timedelta(days=30), factor=5, rng=random.Random(3), label="a"
    )
    again = detection_busy.compose(
        surge(ONSET), ONSET, background, ONSET - timedelta(days=30), factor=5, rng=random.Random(3), label="a"
    )
    assert first is not None and again is not None
    assert first.timestamps == again.timestamps
    assert timedelta(days=4) <= first.onset - first.start <= timedelta(days=6)
    before = [t for t in first.timestamps if t < first.onset - timedelta(days=1)]
    hours = (first.onset - timedelta(days=1) - first.start).total_seconds() / 3600
    assert abs(len(before) - 5 * 2 * hours) <= 10  # the background at ×5
    assert first.floor_min == 1.0  # the target's 5th post after onset, at 60 s


def test_a_background_with_a_secondary_spike_is_refused():
    start = ONSET - timedelta(days=30)
    background = chatter(start, per_hour=2)
    # An aftershock every day of the usable tail.
    background += [start + timedelta(days=d, seconds=s) for d in range(3, 12) for s in range(300)]
    composite = detection_busy.compose(
        surge(ONSET), ONSET, sorted(background), start, factor=1, rng=random.Random(1), label="b"
    )
    assert composite is None


def test_the_replay_alerts_on_the_onset_and_never_while_learning():
    background = chatter(ONSET - timedelta(days=30), per_hour=4)
    composite = detection_busy.compose(
        surge(ONSET), ONSET, background, ONSET - timedelta(days=30), factor=1, rng=random.Random(7), label="c"
    )
    assert composite is not None
    outcome = detection_busy.replay(composite)
    assert outcome.delay_min is not None and outcome.delay_min <= composite.floor_min + 5
    assert outcome.learning_alarms == 0 and outcome.false_alarms == 0
    assert outcome.days_after_learning > 2
