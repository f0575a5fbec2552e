"""5-minute buckets: set-based increments that never overwrite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.intake.buckets import (
    bucket_start,
    buckets_add,
    buckets_add_mentions,
    deltas_for,
    window_bounds,
)
from monitoring.models import Bucket
from tests.factories import MentionFactory, SourceFactory, WatchFactory

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_it_floors_moments_to_five_minutes():
    assert bucket_start(datetime(2026, 3, 1, 10, 7, 59, 999, tzinfo=UTC)) == datetime(
        2026, 3, 1, 10, 5, tzinfo=UTC
    )
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
    buckets_add(
        deltas=deltas_for([(watch.pk, datetime(2026, 3, 1, 10, 2, tzinfo=UTC), "negative", 5, 0.9, True)])
    )

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


@pytest.mark.django_db
def test_counting_stored_mentions_matches_the_python_aggregation():
    """On PostgreSQL the database aggregates (``date_bin``); it must agree with ``deltas_for``."""
    source = SourceFactory()
    moments = [
        datetime(2026, 3, 1, 10, 0, tzinfo=UTC),  # on a boundary
        datetime(2026, 3, 1, 10, 4, 59, 999_999, tzinfo=UTC),  # the last microsecond of the bucket
        datetime(2026, 3, 1, 10, 5, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 58, 1, tzinfo=UTC),
    ]
    mentions = [
        MentionFactory(
            source=source,
            published_at=moment,
            state="scored",
            sentiment_label=label,
            risk=risk,
            author_reach=reach,
            crisis_terms=terms,
        )
        for moment, label, risk, reach, terms in zip(
            moments,
            ["negative", "positive", "neutral", "negative"],
            [0.9, 0.1, None, 0.5],
            [10, 0, 7, 3],
            [["refund"], [], [], ["scam", "boycott"]],
            strict=True,
        )
    ]
    unscored = MentionFactory(source=source, published_at=moments[0])  # state new: not counted yet

    buckets_add_mentions([m.pk for m in mentions] + [unscored.pk])

    expected = deltas_for(
        (m.watch_id, m.published_at, m.sentiment_label, m.author_reach, m.risk, bool(m.crisis_terms))
        for m in mentions
    )
    stored = list(Bucket.objects.filter(watch=source.watch).order_by("start"))
    fields = ("start", "volume", "negative", "positive", "reach", "risk_sum", "risk_max", "crisis_term_hits")
    assert [tuple(getattr(b, f) for f in fields) for b in stored] == [
        tuple(getattr(d, f) for f in fields) for d in expected
    ]
    assert [b.volume for b in stored] == [2, 1, 1]
