"""The scoring stage: new → scored, counted into buckets exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection

from monitoring.intake.buckets import bucket_start
from monitoring.models import Bucket, Mention
from monitoring.scoring.rescore import score_new_mentions
from tests.factories import MentionFactory, SourceFactory, WatchFactory

T0 = datetime(2026, 3, 1, 10, 1, tzinfo=UTC)

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.django_db
def test_it_scores_new_mentions_and_counts_them_into_buckets():
    source = SourceFactory()
    MentionFactory.create_batch(
        3, source=source, text="Terrible service, flight cancelled, awful", published_at=T0
    )
    MentionFactory(source=source, text="Lovely crew, great flight, thank you!", published_at=T0)

    touched = score_new_mentions()

    assert touched == [source.watch_id]
    assert not Mention.objects.filter(state="new").exists()
    negative = Mention.objects.filter(sentiment_label="negative")
    assert negative.count() == 3
    assert all(m.sentiment < 0 and m.scored_at is not None for m in negative)
    bucket = Bucket.objects.get(watch=source.watch, start=bucket_start(T0))
    assert (bucket.volume, bucket.negative, bucket.positive) == (4, 3, 1)


@pytest.mark.django_db
def test_a_second_run_counts_nothing_twice():
    source = SourceFactory()
    MentionFactory.create_batch(5, source=source, published_at=T0)
    assert score_new_mentions() == [source.watch_id]
    assert score_new_mentions() == []
    assert Bucket.objects.get(watch=source.watch).volume == 5


@pytest.mark.django_db
def test_it_works_in_batches_of_limit():
    source = SourceFactory()
    MentionFactory.create_batch(7, source=source, published_at=T0)
    score_new_mentions(limit=4)
    assert Mention.objects.filter(state="new").count() == 3
    score_new_mentions(limit=4)
    assert Bucket.objects.get(watch=source.watch).volume == 7


@pytest.mark.django_db
def test_it_keeps_the_language_a_platform_tagged():
    source = SourceFactory()
    mention = MentionFactory(
        source=source,
        text="Uçuş yine iptal edildi, rezalet",
        language="tr",
        language_from_source=True,
        published_at=T0,
    )
    score_new_mentions()
    mention.refresh_from_db()
    assert mention.language == "tr"
    assert mention.state == "scored"


@pytest.mark.django_db
def test_it_counts_mentions_of_several_watches_separately():
    a, b = (
        SourceFactory(watch=WatchFactory(name="Acme Air")),
        SourceFactory(watch=WatchFactory(name="Beta Bank")),
    )
    MentionFactory.create_batch(2, source=a, published_at=T0)
    MentionFactory.create_batch(3, source=b, published_at=T0)
    assert score_new_mentions() == sorted([a.watch_id, b.watch_id])
    assert Bucket.objects.get(watch=a.watch).volume == 2
    assert Bucket.objects.get(watch=b.watch).volume == 3


@pytest.mark.postgres
@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL (SKIP LOCKED between real connections); SQLite serialises writers",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("overlap_chunk", [250, 10], ids=["one-chunk", "overlapped-chunks"])
def test_two_workers_at_once_never_count_a_mention_twice(monkeypatch, overlap_chunk):
    monkeypatch.setattr("monitoring.intake.overlap.OVERLAP_CHUNK", overlap_chunk)
    source = SourceFactory()
    MentionFactory.create_batch(300, source=source, published_at=T0)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            while score_new_mentions(limit=40):
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Bucket.objects.get(watch=source.watch).volume == 300
    assert not Mention.objects.filter(state="new").exists()


@pytest.mark.django_db
def test_a_batch_of_several_overlapped_chunks_is_scored_and_counted_once(monkeypatch):
    monkeypatch.setattr("monitoring.intake.overlap.OVERLAP_CHUNK", 3)
    source = SourceFactory()
    MentionFactory.create_batch(6, source=source, text="Terrible service, flight cancelled", published_at=T0)
    MentionFactory.create_batch(
        4, source=source, text="Lovely crew, great flight, thank you!", published_at=T0
    )

    assert score_new_mentions(limit=10) == [source.watch_id]

    assert not Mention.objects.filter(state="new").exists()
    assert Mention.objects.filter(sentiment_label="negative").count() == 6
    bucket = Bucket.objects.get(watch=source.watch, start=bucket_start(T0))
    assert (bucket.volume, bucket.negative, bucket.positive) == (10, 6, 4)


@pytest.mark.django_db
def test_a_write_failing_mid_batch_rolls_the_whole_batch_back(monkeypatch):
    import monitoring.scoring.rescore as rescore

    monkeypatch.setattr("monitoring.intake.overlap.OVERLAP_CHUNK", 2)
    real_write = rescore._write_scores
    calls: list[int] = []

    def write_then_fail(rows, scored_at):
        calls.append(len(rows))
        real_write(rows, scored_at)  # the first chunk really reaches the database …
        if len(calls) == 2:
            raise RuntimeError("database went away")  # … and the second fails after writing

    monkeypatch.setattr(rescore, "_write_scores", write_then_fail)
    source = SourceFactory()
    MentionFactory.create_batch(5, source=source, published_at=T0)

    with pytest.raises(RuntimeError, match="went away"):
        score_new_mentions(limit=5)

    assert calls == [2, 2]
    assert Mention.objects.filter(state="new").count() == 5
    assert not Bucket.objects.filter(watch=source.watch).exists()
    monkeypatch.setattr(rescore, "_write_scores", real_write)
    assert score_new_mentions(limit=5) == [source.watch_id]
    assert Bucket.objects.get(watch=source.watch).volume == 5


@pytest.mark.django_db
def test_a_scoring_error_in_the_helper_thread_rolls_the_batch_back(monkeypatch):
    from monitoring import scoring

    monkeypatch.setattr("monitoring.intake.overlap.OVERLAP_CHUNK", 2)
    real_score_many = scoring.score_many

    def score_many_refusing_poison(texts, *args, **kwargs):
        if "poison" in texts:
            raise ValueError("scorer crashed on poison")
        return real_score_many(texts, *args, **kwargs)

    monkeypatch.setattr(scoring, "score_many", score_many_refusing_poison)
    source = SourceFactory()
    MentionFactory.create_batch(4, source=source, text="fine flight", published_at=T0)
    MentionFactory(source=source, text="poison", published_at=T0)  # the last chunk

    with pytest.raises(ValueError, match="poison"):
        score_new_mentions(limit=5)

    assert Mention.objects.filter(state="new").count() == 5
    assert Mention.objects.filter(scored_at__isnull=False).count() == 0
    assert not Bucket.objects.filter(watch=source.watch).exists()
