"""5-minute buckets: set-based increments that never overwrite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.buckets import bucket_start, buckets_add, deltas_for, window_bounds
from monitoring.models import Bucket
from tests.factories import WatchFactory

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_it_floors_moments_to_five_minutes():
    assert bucket_start(datetime(2026, 3, 1, 10, 7, 59, 999, tzinfo=UTC)) == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    assert bucket_start(T0) == T0


def test_a_window_ends_in_the_bucket_still_filling():
    start, end = window_bounds(datetime(2026, 3, 1, 10, 12, tzinfo=UTC), 15)
    assert start == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 10, 15, tzinfo=UTC)


@pytest.mark.django_db
def test_it_adds_to_existing_buckets_instead_of_overwriting_them():
    watch = WatchFactory()
    first = deltas_for(
        [
            (watch.pk, datetime(2026, 3, 1, 10, 1, tzinfo=UTC), "negative", 100, 0.5, True),
            (watch.pk, datetime(2026, 3, 1, 10, 4, tzinfo=UTC), "positive", 10, 0.1, False),
            (watch.pk, datetime(2026, 3, 1, 10, 6, tzinfo=UTC), "neutral", 0, 0.0, False),
        ]
    )
    assert buckets_add(deltas=first) == 2
    buckets_add(deltas=deltas_for([(watch.pk, datetime(2026, 3, 1, 10, 2, tzinfo=UTC), "negative", 5, 0.9, True)]))

    b = Bucket.objects.get(watch=watch, start=T0)
    assert (b.volume, b.negative, b.positive, b.reach, b.crisis_term_hits) == (3, 2, 1, 115, 2)
    assert b.risk_sum == pytest.approx(1.5)
    assert b.risk_max == pytest.approx(0.9)
    assert Bucket.objects.get(watch=watch, start=datetime(2026, 3, 1, 10, 5, tzinfo=UTC)).volume == 1


@pytest.mark.django_db
def test_it_keeps_the_higher_risk_max_when_a_later_batch_is_calmer():
    watch = WatchFactory()
    buckets_add(deltas=deltas_for([(watch.pk, T0, "negative", 0, 0.8, False)]))
    buckets_add(deltas=deltas_for([(watch.pk, T0, "neutral", 0, 0.1, False)]))
    assert Bucket.objects.get(watch=watch, start=T0).risk_max == pytest.approx(0.8)
