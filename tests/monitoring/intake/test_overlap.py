"""The helper-thread overlap ingest and rescoring share."""

from __future__ import annotations

import sys

import pytest

from monitoring.intake.overlap import SWITCH_INTERVAL, overlapped


def test_overlapping_overlaps_restore_the_switch_interval_only_when_the_last_one_ends():
    """gunicorn threads may ingest at once: the process-wide interval is restored once, at the end."""
    original = sys.getswitchinterval()
    first = overlapped([1, 2], lambda n: n * 10)
    second = overlapped([3, 4], lambda n: n * 10)
    assert next(first) == (1, 10) and next(second) == (3, 30)
    assert sys.getswitchinterval() == pytest.approx(min(original, SWITCH_INTERVAL))

    assert list(first) == [(2, 20)]  # the first one ends while the second still runs
    assert sys.getswitchinterval() == pytest.approx(min(original, SWITCH_INTERVAL))
    assert list(second) == [(4, 40)]
    assert sys.getswitchinterval() == original
