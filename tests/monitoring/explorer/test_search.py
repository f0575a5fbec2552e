"""The mention search: full text (stemmed on PostgreSQL, whole words on SQLite) and every filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Reply
from monitoring.explorer.search import (
    SEARCH_MAX_WORDS,
    TEXT_SEARCH_CONFIGS,
    MentionQuery,
    after_mention,
    newest_first,
    rarest_word_share,
    search_mentions,
    search_words,
)
from monitoring.models import Mention
from tests.factories import IncidentFactory, MentionFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming needs PostgreSQL")


def found(**query) -> set[int]:
    return set(search_mentions(MentionQuery(**query)).values_list("pk", flat=True))


def test_every_word_must_appear_as_a_whole_word_in_any_case():
    both = MentionFactory(text="Flight DELAYED in Istanbul")
    one = MentionFactory(text="Flight on time")
    inside = MentionFactory(text="Flightless birds")  # "flight" only inside a longer word
    assert found(q="flight") == {both.pk, one.pk}
    assert found(q="flight istanbul") == {both.pk}
    assert inside.pk not in found(q="flight")


def test_exact_words_are_found_in_every_language():
    polish = MentionFactory(text="Lot opóźniony, skandal", language="pl")
    malay = MentionFactory(text="Penerbangan ditangguhkan lagi", language="ms")
    assert found(q="opóźniony") == {polish.pk}
    assert found(q="ditangguhkan") == {malay.pk}
    assert found(q="skandal opóźniony") == {polish.pk}


@on_postgres
def test_english_words_match_their_other_forms():
    delayed = MentionFactory(text="My flight was delayed for hours", language="en")
    delays = MentionFactory(text="Endless delays at the gate", language="en")
    assert found(q="delay") == {delayed.pk, delays.pk}
    assert found(q="flights delaying") == {delayed.pk}


@on_postgres
def test_turkish_and_indonesian_words_match_their_other_forms():
    turkish = MentionFactory(text="Uçuşum iptal edildi, rezalet", language="tr")
    indonesian = MentionFactory(text="Penerbangan saya ditunda lagi", language="id")
    assert found(q="uçuş") == {turkish.pk}
    assert found(q="tunda") == {indonesian.pk}


@on_postgres
def test_the_generated_column_follows_the_language_map():
    # The migration's CASE and TEXT_SEARCH_CONFIGS must agree: one stemmed term per configured language.
    samples = {"en": "delayed", "tr": "uçuşum", "id": "ditunda"}
    assert set(samples) == set(TEXT_SEARCH_CONFIGS)
    for language, word in samples.items():
        mention = MentionFactory(text=word, language=language)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT search_vector = to_tsvector(%s::regconfig, text) || to_tsvector('simple', text)"
                " FROM monitoring_mention WHERE id = %s",
                [TEXT_SEARCH_CONFIGS[language], mention.pk],
            )
            assert cursor.fetchone() == (True,)


@on_postgres
def test_the_search_uses_the_gin_index():
    MentionFactory(text="Flight delayed", language="en")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # On a one-row table walking the newest-first index and filtering is as cheap as anything:
        # forbid plain index scans so the plan shows whether the condition can use the GIN index.
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = search_mentions(MentionQuery(q="delay")).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "mention_search_idx" in plan


@pytest.mark.parametrize(
    "hostile",
    ["'\":*&|!", "a & | ! b", "(((", "delay:*", "\\", "%_", "' OR 1=1 --", "x" * 10_000, "\x00"],
)
def test_hostile_input_is_only_words_or_nothing(hostile):
    mention = MentionFactory(text="Flight delayed, contact a & b")
    result = found(q=hostile)  # never raises
    assert result <= {mention.pk}


def test_a_query_of_punctuation_only_narrows_nothing():
    mention = MentionFactory(text="anything")
    assert search_words("'\":*&|!") == []
    assert found(q="'\":*&|!") == {mention.pk}


def test_words_are_capped():
    assert len(search_words(" ".join(["word"] * 100))) == SEARCH_MAX_WORDS


def test_each_filter_narrows_the_search():
    now = timezone.now()
    watch = WatchFactory(name="Acme Air")
    source = SourceFactory(watch=watch)
    incident = IncidentFactory(watch=watch)
    target = MentionFactory(
        source=source,
        language="tr",
        sentiment_label="negative",
        risk=0.8,
        author_reach=50_000,
        author="@Yolcu",
        published_at=now - timedelta(hours=1),
        incident=incident,
        is_own=False,
    )
    other = MentionFactory(
        language="xx",
        sentiment_label="positive",
        risk=0.1,
        author_reach=5,
        author="@someone",
        published_at=now - timedelta(days=3),
        is_own=True,
    )
    Reply.objects.create(incident=incident, mention=target, text="We are on it")
    everything = {target.pk, other.pk}
    assert found() == everything
    assert found(watch_id=watch.pk) == {target.pk}
    assert found(source_id=source.pk) == {target.pk}
    assert found(language="tr") == {target.pk}
    assert found(language="other", known_languages=("en", "tr")) == {other.pk}
    assert found(sentiment="negative") == {target.pk}
    assert found(min_risk=0.5) == {target.pk}
    assert found(min_reach=1000) == {target.pk}
    assert found(author="@yolcu") == {target.pk}
    assert found(since=now - timedelta(hours=2)) == {target.pk}
    assert found(until=now - timedelta(hours=2)) == {other.pk}
    assert found(incident_id=incident.pk) == {target.pk}
    assert found(in_incident=True) == {target.pk}
    assert found(in_incident=False) == {other.pk}
    assert found(own=True) == {other.pk}
    assert found(own=False) == {target.pk}
    assert found(answered=True) == {target.pk}
    assert found(answered=False) == {other.pk}


def test_keyset_steps_past_equal_timestamps_without_repeats_or_gaps():
    at = timezone.now()
    same_time = [MentionFactory(published_at=at) for _ in range(5)]
    older = MentionFactory(published_at=at - timedelta(seconds=1))
    ordered = Mention.objects.order_by("-published_at", "-id")
    seen: list[int] = []
    page = list(ordered[:2])
    while page:
        seen.extend(m.pk for m in page)
        page = list(after_mention(ordered, page[-1].pk)[:2])
    assert seen == [*sorted((m.pk for m in same_time), reverse=True), older.pk]


def test_keyset_after_an_unknown_mention_is_empty():
    MentionFactory()
    assert list(after_mention(Mention.objects.all(), 999_999_999)) == []


def test_the_audit_form_of_a_query_keeps_only_what_narrows():
    since = timezone.now()
    query = MentionQuery(q="delay", min_risk=0.5, own=False, since=since, known_languages=("en",))
    assert query.as_audit() == {"q": "delay", "min_risk": 0.5, "own": False, "since": since.isoformat()}


@on_postgres
def test_a_rare_word_is_read_from_the_gin_index_and_sorted_in_the_same_order(monkeypatch):
    at = timezone.now()
    for n in range(40):
        MentionFactory(text=f"flight delayed {n}", language="en", published_at=at - timedelta(minutes=n % 4))
    rare = [
        MentionFactory(text="TK1984 diverted", published_at=at - timedelta(minutes=n % 2)) for n in range(3)
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_mention")  # rolled back with the test, like the rows

    assert rarest_word_share("flight") > 0.9
    assert rarest_word_share("unseenword") == 0  # not among the most common elements: rarer than all
    assert rarest_word_share("flight unseenword") == 0  # every word must appear: the rarest decides
    # In a table this small every word is among the most common; at a million rows "TK1984" is not.
    assert 0 < rarest_word_share("tk1984") < 0.1
    monkeypatch.setattr("monitoring.explorer.search.RARE_WORD_SHARE", 0.1)
    assert rarest_word_share("'*:|") is None

    common = newest_first(search_mentions(MentionQuery(q="flight")), "flight")
    assert "+" not in str(common.query).split("ORDER BY", 1)[1]
    ordered = newest_first(search_mentions(MentionQuery(q="tk1984")), "tk1984")
    assert 'published_at" +' in str(ordered.query).split("ORDER BY", 1)[1]  # no index serves this order
    expected = sorted(rare, key=lambda m: (m.published_at, m.pk), reverse=True)
    assert list(ordered) == expected
    assert list(after_mention(ordered, expected[0].pk)) == expected[1:]
