"""Review KPIs: each computed from the record with frozen time, and each missing one explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents.lifecycle.timeline import timeline_add
from incidents.models import Draft, DraftStatus, Reply
from incidents.review.kpis import format_duration, kpi_rows, review_kpis
from tests.factories import IncidentFactory, MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # detection


def mentions(source, at: datetime, *, negative: int, other: int, incident=None) -> None:
    """``negative`` negative and ``other`` neutral scored mentions, spread over the 40 minutes after ``at``."""
    for n in range(negative + other):
        MentionFactory(
            source=source,
            incident=incident,
            published_at=at + timedelta(minutes=(40 * n) // (negative + other)),
            sentiment_label="negative" if n < negative else "neutral",
            state="scored",
            sentiment=-0.6 if n < negative else 0.0,
        )


def crisis(*, last_hour_negative: int = 1, last_hour_total: int = 10):
    """A full record: 24 h baseline at 10% negative, a build-up from 11:30, detection at 12:00,
    acknowledgement 12:12, a statement published 12:40, a reply 12:50, negative peak 12:00-13:00."""
    source = SourceFactory(kind="drill")
    incident = IncidentFactory(watch=source.watch, detected_at=T0, first_signal_at=T0 - timedelta(minutes=10))
    # Baseline: 20 scored mentions, 2 negative, spread over the night before.
    for hour in range(10):
        mentions(
            source,
            T0 - timedelta(hours=12 - hour),
            negative=1 if hour in (2, 7) else 0,
            other=2 if hour not in (2, 7) else 1,
        )
    timeline_add(
        incident=incident,
        kind="buildup_started",
        phase="pre",
        at=T0 - timedelta(minutes=30),
        text="First mention of the build-up",
    )
    mentions(source, T0, negative=30, other=5, incident=incident)
    mentions(source, T0 + timedelta(hours=1), negative=12, other=8)
    mentions(
        source,
        T0 + timedelta(hours=2),
        negative=last_hour_negative,
        other=last_hour_total - last_hour_negative,
    )
    incident.acknowledged_at = T0 + timedelta(minutes=12)
    incident.resolved_at = T0 + timedelta(hours=2, minutes=30)
    incident.status = "resolved"
    incident.save()
    Draft.objects.create(
        incident=incident,
        body="We are on it.",
        status=DraftStatus.PUBLISHED,
        published_at=T0 + timedelta(minutes=40),
        published_channel="twitter",
    )
    mention = incident.mentions.first()
    Reply.objects.create(
        incident=incident,
        mention=mention,
        text="Sorry, we are fixing it.",
        replied_at=T0 + timedelta(minutes=50),
    )
    return incident


def test_it_computes_every_kpi_from_the_record():
    incident = crisis()
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        kpis = review_kpis(incident)

    assert kpis["time_to_detect"]["value"] == 30 * 60
    assert kpis["time_to_detect"]["display"] == "30 min"
    assert kpis["time_to_acknowledge"]["value"] == 12 * 60
    assert kpis["time_to_first_response"]["value"] == 40 * 60
    assert "published statement on twitter" in kpis["time_to_first_response"]["note"]
    peak = kpis["peak_negative_per_hour"]
    assert (peak["value"], peak["display"], peak["at"]) == (30, "30 / h", T0.isoformat())
    recovery = kpis["sentiment_recovery"]
    assert recovery["baseline_share"] == 0.1
    # 12:00 (86% negative) and 13:00 (60%) are above 10% + 5 pts; 14:00 (10%) is within: recovered by 15:00.
    assert (recovery["status"], recovery["value"], recovery["display"]) == ("ok", 3 * 3600, "3 h")
    assert kpis["computed_at"] == (T0 + timedelta(hours=5)).isoformat()


def test_a_reply_is_its_own_kpi_and_never_the_first_published_response():
    incident = crisis()
    Reply.objects.filter(incident=incident).update(replied_at=T0 + timedelta(minutes=25))
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        kpis = review_kpis(incident)
    reply = kpis["time_to_first_reply"]
    assert reply["value"] == 25 * 60 and "reply to a mention" in reply["note"]
    assert "reply" not in kpis["time_to_first_response"]["note"]


def test_a_post_by_our_own_account_counts_as_the_first_published_response():
    incident = crisis()
    source = SourceFactory(watch=incident.watch)
    MentionFactory(
        source=source,
        incident=incident,
        is_own=True,
        author="@AcmeAir",
        published_at=incident.detected_at + timedelta(minutes=12),
        sentiment_label="negative",
    )
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        kpis = review_kpis(incident)
    assert kpis["time_to_first_response"]["value"] == 12 * 60
    assert "our own account @AcmeAir" in kpis["time_to_first_response"]["note"]


def test_sentiment_that_never_recovers_is_not_yet():
    incident = crisis(last_hour_negative=6, last_hour_total=10)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        recovery = review_kpis(incident)["sentiment_recovery"]
    assert recovery["value"] is None
    assert (recovery["status"], recovery["display"]) == ("not_yet", "not yet")
    assert "10%" in recovery["note"]


def test_an_hour_still_running_does_not_count_as_recovered():
    incident = crisis()
    # At 14:30 the 14:00 hour looks calm so far, but it is not over.
    with time_machine.travel(T0 + timedelta(hours=2, minutes=30), tick=False):
        recovery = review_kpis(incident)["sentiment_recovery"]
    assert recovery["status"] == "not_yet"


def test_a_nearly_silent_hour_says_nothing_about_recovery():
    incident = crisis(last_hour_negative=0, last_hour_total=2)  # 2 neutral mentions only
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        recovery = review_kpis(incident)["sentiment_recovery"]
    assert recovery["status"] == "not_yet"


def test_missing_data_shows_a_dash_and_says_why():
    source = SourceFactory()
    incident = IncidentFactory(watch=source.watch, detected_at=T0, first_signal_at=None)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        kpis = review_kpis(incident)
    for key, why in [
        ("time_to_detect", "No pre-crisis signal"),
        ("time_to_acknowledge", "never acknowledged"),
        ("time_to_first_response", "Nothing was published"),
        ("peak_negative_per_hour", "No scored negative mentions"),
        ("sentiment_recovery", "no baseline"),
    ]:
        assert kpis[key]["value"] is None, key
        assert kpis[key]["display"] == "—", key
        assert why in kpis[key]["note"], key


def test_time_to_detect_falls_back_to_the_recorded_first_signal():
    incident = IncidentFactory(detected_at=T0, first_signal_at=T0 - timedelta(minutes=7))
    with time_machine.travel(T0, tick=False):
        assert review_kpis(incident)["time_to_detect"]["value"] == 7 * 60


def test_kpis_compute_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    incident = crisis()
    with time_machine.travel(T0 + timedelta(hours=5), tick=False), django_assert_max_num_queries(6):
        review_kpis(incident)


def test_rows_come_in_display_order_and_tolerate_old_stored_kpis():
    rows = kpi_rows(
        {"time_to_acknowledge": {"label": "Time to acknowledge", "display": "5 min", "value": 300}}
    )
    assert [row["key"] for row in rows] == [
        "time_to_detect",
        "time_to_acknowledge",
        "time_to_first_response",
        "time_to_first_reply",
        "peak_negative_per_hour",
        "sentiment_recovery",
    ]
    assert rows[1]["display"] == "5 min"
    assert rows[0]["display"] == "—" and "recompute" in rows[0]["note"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (59.6, "1 min"),
        (45, "45 s"),
        (12 * 60, "12 min"),
        (3 * 3600, "3 h"),
        (3 * 3600 + 5 * 60, "3 h 5 min"),
        (50 * 3600, "2 d 2 h"),
        (-5, "0 s"),
    ],
)
def test_durations_read_like_a_human_wrote_them(seconds, shown):
    assert format_duration(seconds) == shown
