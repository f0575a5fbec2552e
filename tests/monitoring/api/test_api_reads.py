"""The monitoring read API: watches with 24 h counts, sources without secrets, mentions filtered and
paged newest first, signals and rules — for every role, never for strangers."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.intake.buckets import bucket_start
from monitoring.models import Bucket, Mention, Signal
from tests.conftest import PASSWORD
from tests.factories import IncidentFactory, MentionFactory, RuleFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name, *args):
    return reverse(f"crisisdesk:{name}", args=args)


READ_ENDPOINTS = ["watch-list", "source-list", "mention-list", "signal-list", "rule-list"]


@pytest.mark.parametrize("name", READ_ENDPOINTS)
def test_it_answers_a_stranger_with_401(name):
    response = APIClient().get(url(name))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("name", READ_ENDPOINTS)
def test_a_viewer_may_read_every_list(viewer, name):
    assert api_for(viewer).get(url(name)).status_code == 200


def test_a_member_without_a_role_is_refused(db):
    from tests.conftest import make_member

    nobody = make_member("no-role", None)
    assert api_for(nobody).get(url("watch-list")).status_code == 403


def test_basic_auth_works_with_a_members_password(viewer):
    token = base64.b64encode(f"{viewer.username}:{PASSWORD}".encode()).decode()
    response = APIClient().get(url("watch-list"), HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 200


def test_watches_carry_their_last_24_hours_of_volume_and_negatives(viewer):
    now = timezone.now()
    watch = WatchFactory(name="Acme Air")
    SourceFactory(watch=watch)
    Bucket.objects.create(watch=watch, start=bucket_start(now - timedelta(hours=1)), volume=40, negative=25)
    Bucket.objects.create(watch=watch, start=bucket_start(now - timedelta(hours=3)), volume=10, negative=1)
    Bucket.objects.create(
        watch=watch, start=bucket_start(now - timedelta(hours=30)), volume=999, negative=999
    )
    WatchFactory(name="Quiet brand")

    rows = api_for(viewer).get(url("watch-list")).json()["results"]

    assert [(r["name"], r["volume_24h"], r["negative_24h"], r["source_count"]) for r in rows] == [
        ("Acme Air", 50, 26, 1),
        ("Quiet brand", 0, 0, 0),
    ]


def test_watch_list_queries_do_not_grow_with_watches(viewer, django_assert_max_num_queries):
    for n in range(15):
        watch = WatchFactory(name=f"Brand {n}")
        SourceFactory(watch=watch)
        Bucket.objects.create(watch=watch, start=bucket_start(timezone.now()), volume=n, negative=0)
    client = api_for(viewer)
    with django_assert_max_num_queries(4):  # 2 permission lookups, count, page
        assert len(client.get(url("watch-list")).json()["results"]) == 15


def test_sources_show_health_but_never_secrets_or_cursors(viewer):
    source = SourceFactory(
        kind="youtube",
        name="YouTube comments",
        config={"video_id": "abc123", "api_key": "AIza-very-secret-key"},
        cursor={"page_token": "CURSOR-TOKEN-XYZ"},
        health="failing",
        last_error="403 Forbidden: quota exceeded",
        consecutive_failures=3,
    )
    response = api_for(viewer).get(url("source-detail", source.pk))
    body = response.content.decode()
    data = response.json()

    assert response.status_code == 200
    assert source.secret not in body
    assert "AIza-very-secret-key" not in body and "CURSOR-TOKEN-XYZ" not in body
    assert "secret" not in data and "cursor" not in data
    assert data["config"] == {"video_id": "abc123", "api_key": "•••"}
    assert (data["health"], data["last_error"], data["consecutive_failures"]) == (
        "failing",
        "403 Forbidden: quota exceeded",
        3,
    )


def test_sources_filter_by_health_and_watch(viewer):
    watch = WatchFactory(name="Acme Air")
    failing = SourceFactory(watch=watch, health="failing")
    SourceFactory(watch=watch, health="ok")
    SourceFactory(health="failing")
    rows = api_for(viewer).get(url("source-list"), {"watch": watch.pk, "health": "failing"}).json()["results"]
    assert [r["id"] for r in rows] == [failing.pk]


def _mentions(source, count, *, start, step=timedelta(minutes=1), **fields):
    return [MentionFactory(source=source, published_at=start + step * n, **fields) for n in range(count)]


def test_mentions_come_newest_first_in_cursor_pages(viewer):
    source = SourceFactory()
    start = timezone.now() - timedelta(hours=1)
    made = _mentions(source, 5, start=start)
    client = api_for(viewer)

    first = client.get(url("mention-list"), {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    newest_first = [m.pk for m in reversed(made)]
    assert [r["id"] for r in first["results"] + second["results"] + third["results"]] == newest_first
    assert third["next"] is None


def test_a_new_mention_does_not_shift_the_next_page(viewer):
    source = SourceFactory()
    made = _mentions(source, 4, start=timezone.now() - timedelta(hours=1))
    client = api_for(viewer)
    first = client.get(url("mention-list"), {"page_size": 2}).json()
    MentionFactory(source=source, published_at=timezone.now())  # arrives while the reader pages
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [made[1].pk, made[0].pk]


def test_mentions_filter_by_every_documented_field(viewer):
    now = timezone.now()
    watch = WatchFactory(name="Acme Air")
    source = SourceFactory(watch=watch)
    other_source = SourceFactory(watch=watch)
    incident = IncidentFactory(watch=watch)
    target = MentionFactory(
        source=source,
        language="tr",
        sentiment_label="negative",
        state="scored",
        incident=incident,
        published_at=now - timedelta(minutes=30),
        text="Acme Air bagajımı kaybetti, rezalet!",
    )
    MentionFactory(
        source=source,
        language="tr",
        sentiment_label="positive",
        state="scored",
        published_at=now - timedelta(minutes=30),
    )
    MentionFactory(
        source=source,
        language="pl",
        sentiment_label="negative",
        state="scored",
        published_at=now - timedelta(minutes=30),
    )
    MentionFactory(
        source=other_source,
        language="tr",
        sentiment_label="negative",
        state="scored",
        published_at=now - timedelta(minutes=30),
    )
    MentionFactory(
        source=source,
        language="tr",
        sentiment_label="negative",
        state="new",
        published_at=now - timedelta(minutes=30),
    )
    MentionFactory(
        source=source,
        language="tr",
        sentiment_label="negative",
        state="scored",
        published_at=now - timedelta(days=3),
        incident=incident,
    )
    MentionFactory(language="tr", sentiment_label="negative", state="scored", incident=None)

    params = {
        "watch": watch.pk,
        "source": source.pk,
        "language": "tr",
        "sentiment_label": "negative",
        "state": "scored",
        "incident": incident.pk,
        "published_after": (now - timedelta(hours=2)).isoformat(),
        "published_before": now.isoformat(),
    }
    rows = api_for(viewer).get(url("mention-list"), params).json()["results"]

    assert [r["id"] for r in rows] == [target.pk]
    assert rows[0]["text"] == "Acme Air bagajımı kaybetti, rezalet!"
    assert rows[0]["source_name"] == source.name


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"watch": "acme"}, "watch"),
        ({"watch": str(2**70)}, "watch"),  # SQLite would raise OverflowError (a 500)
        ({"source": "1.5"}, "source"),
        ({"sentiment_label": "furious"}, "sentiment_label"),
        ({"state": "deleted"}, "state"),
        ({"published_after": "last tuesday"}, "published_after"),
    ],
)
def test_a_bad_mention_filter_is_a_400_naming_the_field(viewer, params, field):
    response = api_for(viewer).get(url("mention-list"), params)
    assert response.status_code == 400
    assert field in response.json()


def test_mention_list_queries_do_not_grow_with_mentions(viewer, django_assert_max_num_queries):
    for n in range(3):
        _mentions(SourceFactory(), 10, start=timezone.now() - timedelta(hours=n + 1))
    client = api_for(viewer)
    with django_assert_max_num_queries(3):  # 2 permission lookups, the page (a cursor needs no COUNT)
        assert len(client.get(url("mention-list"), {"page_size": 30}).json()["results"]) == 30


def test_mention_text_from_strangers_comes_back_verbatim_as_json(viewer):
    mention = MentionFactory(text="<script>alert(1)</script> Żółć — çok kötü 😡")
    response = api_for(viewer).get(url("mention-detail", mention.pk))
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["text"] == "<script>alert(1)</script> Żółć — çok kötü 😡"


@pytest.mark.parametrize("method", ["delete", "put", "patch", "post"])
def test_nobody_can_delete_or_change_a_mention_through_the_api(admin_member, method):
    mention = MentionFactory()
    client = api_for(admin_member)
    detail = getattr(client, method)(url("mention-detail", mention.pk))
    listing = getattr(client, method)(url("mention-list"))
    assert detail.status_code == 405 and listing.status_code == 405
    assert Mention.objects.filter(pk=mention.pk).exists()


def test_signals_filter_by_watch_rule_and_processed(viewer):
    now = timezone.now()
    rule = RuleFactory(name="Volume spike")
    other = RuleFactory(watch=rule.watch, name="Negative spike", kind="negative_spike")
    mentions = [MentionFactory(source=SourceFactory(watch=rule.watch)) for _ in range(3)]

    def signal(rule, minutes, processed):
        start = bucket_start(now - timedelta(minutes=minutes))
        return Signal.objects.create(
            rule=rule,
            watch=rule.watch,
            window_start=start,
            window_end=start + timedelta(minutes=15),
            observed=40,
            expected=3.5,
            severity=2,
            processed_at=now if processed else None,
            summary={"top_terms": ["bagaj"]},
        )

    pending = signal(rule, 10, processed=False)
    pending.mentions.set(mentions)
    signal(rule, 60, processed=True)
    signal(other, 10, processed=False)
    client = api_for(viewer)

    rows = client.get(url("signal-list"), {"rule": rule.pk, "processed": "false"}).json()["results"]
    assert [(r["id"], r["mention_count"], r["rule_name"], r["processed"]) for r in rows] == [
        (pending.pk, 3, "Volume spike", False)
    ]
    assert len(client.get(url("signal-list"), {"watch": rule.watch_id}).json()["results"]) == 3
    assert len(client.get(url("signal-list"), {"processed": "true"}).json()["results"]) == 1
    assert client.get(url("signal-list"), {"processed": "maybe"}).status_code == 400


def test_rules_filter_by_watch(viewer):
    rule = RuleFactory(name="Volume spike", params={"method": "robust_z"})
    RuleFactory(name="Elsewhere")
    rows = api_for(viewer).get(url("rule-list"), {"watch": rule.watch_id}).json()["results"]
    assert [(r["id"], r["params"]) for r in rows] == [(rule.pk, {"method": "robust_z"})]


def test_an_unknown_id_is_a_404(viewer):
    assert api_for(viewer).get(url("watch-detail", 999_999)).status_code == 404
    assert api_for(viewer).get(url("mention-detail", 999_999)).status_code == 404


def test_signal_list_queries_do_not_grow_with_signals(viewer, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(8):
        rule = RuleFactory()
        start = bucket_start(now - timedelta(minutes=5 * n))
        signal = Signal.objects.create(
            rule=rule,
            watch=rule.watch,
            window_start=start,
            window_end=start,
            observed=9,
            expected=1,
            severity=3,
        )
        signal.mentions.set([MentionFactory(source=SourceFactory(watch=rule.watch))])
    client = api_for(viewer)
    with django_assert_max_num_queries(
        4
    ):  # 2 permission lookups, count, page (rule joined, counts as subquery)
        rows = client.get(url("signal-list")).json()["results"]
    assert len(rows) == 8 and {r["mention_count"] for r in rows} == {1}


@pytest.mark.parametrize("offset", ["+22:24", "-23:59", "+16:00", "+03:00"])
def test_published_after_takes_any_offset_python_accepts(viewer, offset):
    """PostgreSQL refuses a literal offset past ±15:59 (a 500 before): the time is compared in UTC."""
    source = SourceFactory()
    MentionFactory(source=source, published_at=timezone.now() - timedelta(days=1))

    response = api_for(viewer).get(url("mention-list"), {"published_after": f"2020-11-07T08:24:43{offset}"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
