"""The ingest service: normalisation, dedupe, filters, scoring on arrival and concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.template import Context, Template
from django.utils import timezone

from crisisdesk.links import safe_url
from monitoring import scoring
from monitoring.intake.buckets import bucket_start
from monitoring.intake.ingest import ingest_items
from monitoring.intake.normalise import html_to_plain_text, plain_text
from monitoring.models import Bucket, Mention, MentionState
from monitoring.scoring.english import vader
from monitoring.scoring.rescore import score_new_mentions
from monitoring.sources.base import Item
from tests.factories import SourceFactory, WatchFactory


def item(n: int = 1, **overrides) -> Item:
    values = {
        "external_id": f"ext-{n}",
        "text": f"Acme Air cancelled flight {n}",
        "published_at": datetime(2026, 11, 16, 9, 0, tzinfo=UTC) + timedelta(minutes=n),
    }
    values.update(overrides)
    return Item(**values)


@pytest.fixture
def source(db):
    return SourceFactory(watch=WatchFactory(name="Acme Air"))


def test_it_stores_new_items_as_scored_mentions_of_the_watch(source):
    result = ingest_items(
        source=source,
        items=[item(1), item(2, language="tr", author="ayse", author_reach=1520, text="Uçuş iptal, rezalet")],
    )

    assert (result.created, result.duplicates, result.dropped) == (2, 0, 0)
    mentions = Mention.objects.filter(pk__in=result.mention_ids).order_by("external_id")
    assert [m.external_id for m in mentions] == ["ext-1", "ext-2"]
    assert all(m.watch_id == source.watch_id and m.state == MentionState.SCORED for m in mentions)
    assert all(m.scored_at is not None and m.sentiment_label for m in mentions)
    english, turkish = mentions
    assert (turkish.language, turkish.language_from_source, turkish.author_reach) == ("tr", True, 1520)
    assert turkish.sentiment_label == "negative"
    assert (english.language, english.language_from_source) == ("en", False)  # detected, not tagged
    source.refresh_from_db()
    assert source.last_mention_at is not None


def test_stored_mentions_are_counted_into_their_buckets_in_the_same_transaction(source):
    ingest_items(source=source, items=[item(1), item(2, text="Terrible service, awful, flight cancelled")])
    ingest_items(source=source, items=[item(1), item(2), item(3)])  # a replay: only ext-3 is new

    bucket = Bucket.objects.get(watch=source.watch, start=bucket_start(item(1).published_at))
    assert bucket.volume == 3
    assert bucket.negative == Mention.objects.filter(source=source, sentiment_label="negative").count()


def test_a_scorer_failure_stores_the_items_unscored_for_the_scoring_stage(
    source, monkeypatch, django_capture_on_commit_callbacks
):
    def crash(*args, **kwargs):
        raise RuntimeError("scorer bug")

    monkeypatch.setattr(scoring, "score_many", crash)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ingest_items(source=source, items=[item(1), item(2)])

    assert result.created == 2  # nothing lost …
    assert Mention.objects.filter(source=source, state=MentionState.NEW).count() == 2
    assert not Bucket.objects.filter(watch=source.watch).exists()  # … and not counted before scoring
    monkeypatch.undo()
    with mock.patch("crisisdesk.nudging.enqueue_now") as send:
        for callback in callbacks:
            callback()
    send.assert_called_once_with("monitoring.tasks.score_new_mentions", countdown=None)  # and no detection
    assert score_new_mentions() == [source.watch_id]
    assert Bucket.objects.get(watch=source.watch).volume == 2


def test_chunks_prepared_in_the_helper_thread_are_stored_and_counted_once(source, monkeypatch):
    monkeypatch.setattr(
        "monitoring.intake.overlap.chunked",
        lambda values: [values[i : i + 3] for i in range(0, len(values), 3)],
    )
    items = [
        item(n, text="Terrible service, awful" if n % 2 else "Lovely crew, thank you") for n in range(10)
    ]

    result = ingest_items(source=source, items=items)

    assert result.created == 10
    assert Mention.objects.filter(source=source, state=MentionState.SCORED).count() == 10
    assert sum(Bucket.objects.filter(watch=source.watch).values_list("volume", flat=True)) == 10
    assert sum(Bucket.objects.filter(watch=source.watch).values_list("negative", flat=True)) == 5


def test_duplicates_and_drops_are_found_across_chunks(source, monkeypatch):
    monkeypatch.setattr(
        "monitoring.intake.overlap.chunked",
        lambda values: [values[i : i + 2] for i in range(0, len(values), 2)],
    )
    source.watch.exclude_terms = ["giveaway"]
    source.watch.save()
    items = [item(1), item(2), item(1, text="edited"), item(3, text="Giveaway!"), item(2), item(4)]

    result = ingest_items(source=source, items=items)

    assert (result.created, result.duplicates, result.dropped) == (3, 2, 1)
    assert sorted(Mention.objects.filter(source=source).values_list("external_id", flat=True)) == [
        "ext-1",
        "ext-2",
        "ext-4",
    ]
    assert (
        Mention.objects.get(external_id="ext-1").text == "Acme Air cancelled flight 1"
    )  # the first one wins


def test_ingesting_the_same_items_twice_stores_each_once(source):
    first = ingest_items(source=source, items=[item(1), item(2)])
    second = ingest_items(source=source, items=[item(1), item(2), item(3)])

    assert (first.created, first.duplicates) == (2, 0)
    assert (second.created, second.duplicates) == (1, 2)
    assert Mention.objects.filter(source=source).count() == 3
    assert second.mention_ids == list(
        Mention.objects.filter(external_id="ext-3").values_list("id", flat=True)
    )


def test_the_same_item_twice_in_one_batch_is_one_mention(source):
    result = ingest_items(source=source, items=[item(1), item(1, text="edited")])

    assert (result.created, result.duplicates) == (1, 1)


def test_the_same_external_id_on_another_source_is_another_mention(source):
    other = SourceFactory(watch=source.watch)
    ingest_items(source=source, items=[item(1)])

    assert ingest_items(source=other, items=[item(1)]).created == 1


def test_exclude_terms_drop_matching_items_case_insensitively(source):
    source.watch.exclude_terms = ["ACME AIRSOFT", "giveaway"]
    source.watch.save()

    result = ingest_items(
        source=source,
        items=[item(1, text="Acme Airsoft guns on sale"), item(2, text="Win a GIVEAWAY ticket"), item(3)],
    )

    assert (result.created, result.dropped) == (1, 2)
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["ext-3"]


def test_a_post_is_dropped_when_its_text_shows_a_language_outside_the_watch_and_untagged_items_kept(source):
    source.watch.languages = ["en", "tr"]
    source.watch.save()

    german = "Acme Air hat meinen Flug gestrichen und niemand sagt uns etwas, das ist eine Frechheit."
    result = ingest_items(
        source=source,
        items=[item(1, language="de", text=german), item(2, language="tr-TR"), item(3, language="")],
    )

    assert (result.created, result.dropped) == (2, 1)
    stored = {m.external_id: (m.language, m.language_from_source) for m in Mention.objects.all()}
    assert stored == {"ext-2": ("tr", True), "ext-3": ("en", False)}  # ext-3's language was detected


def test_a_language_tag_alone_never_drops_a_post(source):
    source.watch.languages = ["en"]
    source.watch.save()
    english = "Acme Air is the worst airline ever, they lost my bag and nobody answers. Disgusting!"

    result = ingest_items(
        source=source,
        items=[
            item(1, language="tr", text=english),  # Jetstream: the author's default language
            item(2, language="de"),  # too short for its text to tell: kept
            item(3, language="ja", text="Acme Air のフライトが欠航になりました。誰も何も教えてくれません。"),
        ],
    )

    assert (result.created, result.dropped) == (2, 1)
    mentions = {m.external_id: m for m in Mention.objects.all()}
    # The English post tagged "tr" is stored and scored as English, not as neutral Turkish.
    assert mentions["ext-1"].language == "en"
    assert mentions["ext-1"].sentiment_label == "negative"
    assert mentions["ext-1"].sentiment == vader().polarity_scores(english)["compound"]
    assert mentions["ext-2"].language == "de"


def test_an_untagged_post_in_a_language_we_do_not_name_is_other_and_dropped_by_a_language_filter(source):
    czech = "Acme Air zrušila můj let a nikdo nám nic neřekne, je to opravdu hrozné."
    kept = ingest_items(source=source, items=[item(1, text=czech)])
    assert kept.created == 1
    assert Mention.objects.get().language == "other"

    source.watch.languages = ["pl", "en"]
    source.watch.save()
    dropped = ingest_items(source=source, items=[item(2, text=czech)])
    assert (dropped.created, dropped.dropped) == (0, 1)


def test_plain_text_is_stored_as_written_and_rendered_inert(source):
    result = ingest_items(
        source=source,
        items=[
            item(1, text="I <3 Acme & their crew"),
            item(2, text="<script>alert(1)</script>"),
            item(3, text="line one\x00\x07\n\n\n\nline   two"),
        ],
    )

    texts = dict(Mention.objects.filter(pk__in=result.mention_ids).values_list("external_id", "text"))
    assert texts["ext-1"] == "I <3 Acme & their crew"
    assert texts["ext-2"] == "<script>alert(1)</script>"  # what the stranger wrote, kept as evidence
    assert texts["ext-3"] == "line one\n\nline two"  # control characters out, whitespace folded
    rendered = Template("{{ text }}").render(Context({"text": texts["ext-2"]}))
    assert "<script>" not in rendered and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_html_payloads_become_plain_text_with_scripts_removed():
    assert (
        html_to_plain_text("<p>Lost my <b>bag</b> &amp; my patience</p><script>alert(1)</script>")
        == "Lost my bag & my patience"
    )
    assert html_to_plain_text("&lt;script&gt;alert(1)&lt;/script&gt; typed as text") == (
        "<script>alert(1)</script> typed as text"
    )
    assert html_to_plain_text("<script>alert(1)</script>") == "alert(1)"  # words survive, element does not


def test_multilingual_text_and_emoji_survive_unchanged(source):
    text = "İstanbul'da Acme Air rezaleti 😡 #AcmeAir — Zażółć gęślą jaźń — Penerbangan ditangguhkan"
    ingest_items(source=source, items=[item(1, text=text)])

    assert Mention.objects.get().text == text


def test_only_http_and_https_urls_are_kept(source):
    ingest_items(
        source=source,
        items=[
            item(1, url="https://example.com/post/1"),
            item(2, url="javascript:alert(1)"),
            item(3, url="data:text/html,<script>x</script>"),
            item(4, url="ftp://example.com/file"),
            item(5, url="//example.com/relative"),
            item(6, url="http://example.com/" + "a" * 2100),
        ],
    )

    urls = dict(Mention.objects.values_list("external_id", "url"))
    assert urls == {"ext-1": "https://example.com/post/1", **{f"ext-{n}": "" for n in range(2, 7)}}
    assert safe_url(" https://example.com/x ") == "https://example.com/x"


def test_timestamps_become_utc_and_the_future_is_clamped_to_now(source):
    istanbul = timezone.get_fixed_timezone(180)
    ingest_items(
        source=source,
        items=[
            item(1, published_at=datetime(2026, 11, 16, 12, 0, tzinfo=istanbul)),
            item(2, published_at=datetime(2026, 11, 16, 9, 0)),  # naive: taken as UTC
            item(3, published_at=timezone.now() + timedelta(days=3)),
        ],
    )

    times = dict(Mention.objects.values_list("external_id", "published_at"))
    assert times["ext-1"] == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    assert times["ext-2"] == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    assert times["ext-3"] <= timezone.now()


def test_long_fields_are_capped_and_empty_texts_dropped(source):
    long_id = "x" * 400
    result = ingest_items(
        source=source,
        items=[
            item(1, external_id=long_id, text="y" * 50_000, author="z" * 1000, author_reach=-5),
            item(2, text="   \n\t  "),
        ],
    )

    assert (result.created, result.dropped) == (1, 1)
    mention = Mention.objects.get()
    assert len(mention.external_id) <= 255 and len(mention.text) <= 10_000 and len(mention.author) <= 255
    assert mention.author_reach == 0
    # The long id maps to the same stored id every time, so it still dedupes.
    assert ingest_items(source=source, items=[item(1, external_id=long_id)]).duplicates == 1


def test_a_spike_of_ten_thousand_items_is_stored_in_few_queries(source, django_assert_max_num_queries):
    items = [item(n) for n in range(10_000)]

    # PostgreSQL: one INSERT … RETURNING per ~250 items and one bucket upsert. SQLite caps a
    # statement at 999 parameters, so Django splits each INSERT further, and the bucket counts read
    # the rows back in chunks — still a bounded, set-based count.
    limit = 340 if connection.vendor == "sqlite" else 60
    with django_assert_max_num_queries(limit):
        result = ingest_items(source=source, items=items)

    assert result.created == 10_000
    assert Mention.objects.filter(source=source).count() == 10_000


def test_it_nudges_detection_after_commit_only_when_it_created_something(
    source, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest_items(source=source, items=[item(1)])
    with django_capture_on_commit_callbacks() as none:
        ingest_items(source=source, items=[item(1)])

    assert len(callbacks) == 1
    assert none == []
    with mock.patch("crisisdesk.nudging.enqueue_now") as send:
        for callback in callbacks:
            callback()
    send.assert_called_once_with(
        "monitoring.tasks.detect_watch", source.watch_id, countdown=None
    )  # no scoring


def test_plain_text_keeps_paragraphs_and_collapses_spaces():
    assert plain_text("One   two\n\n\n\nthree") == "One two\n\nthree"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ingests_of_the_same_items_store_each_once():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's shared in-memory test database locks whole tables; the race runs on PostgreSQL")
    source = SourceFactory(watch=WatchFactory(name="Race"))
    items = [item(n) for n in range(300)]
    barrier = threading.Barrier(2)
    results = []
    errors = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(ingest_items(source=source, items=items))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Mention.objects.filter(source=source).count() == 300
    assert sum(r.created for r in results) == 300
    assert sum(r.duplicates for r in results) == 300
    # Each mention entered its bucket once, by the ingest that stored it.
    assert sum(Bucket.objects.filter(watch=source.watch).values_list("volume", flat=True)) == 300
