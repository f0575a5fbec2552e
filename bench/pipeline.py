"""Throughput of the whole monitoring pipeline in one process, against raw vaderSentiment.

    python bench/pipeline.py [--n 100000] [--batch 1000]

Pushes N synthetic multilingual mentions (en/tr/pl/id/ms, with crisis bursts) through the
production path in one process: ``ingest_items`` (normalise, score, store, count into buckets) →
``score_new_mentions`` (the fallback stage for rows left unscored; normally finds none) →
``detect_for_watch``, into PostgreSQL (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/crisisdesk_bench``; created and migrated when missing). Then it
scores the same texts with raw vaderSentiment in the same run. Both sides are warmed up first (the
scorer loads its models, VADER its lexicon), as in a long-running worker. It checks that every
mention was stored and counted once. Last line: ``mentions_per_s=X vader_per_s=Y ratio=Z``.

It also prints the hit rate of the scorer's duplicate cache (``monitoring.scoring.duplicates``:
an exact copy of a text is scored once): over the run above, whose synthetic stream repeats each
template with one of 997 tags, and on real crisis streams, the labelled tweets of each CrisisLex
event in ``--data`` (``../shared/data/crisislex``; tweets in id order, which is time order,
scored in batches of 250 from an empty cache).

``--open-incident`` runs it during an open incident of the watch whose crisis began before the
first item, so ingest attaches every stored mention to it (the worst case for attaching), and
checks that all of them were attached.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support.postgres import ensure_database  # noqa: E402 - after the path line above

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crisisdesk_bench"

TEMPLATES = {
    "en": [
        "Flying with {brand} today, smooth boarding and friendly crew",
        "{brand} cancelled my flight again, terrible service, I want a refund",
        "Is the {brand} app down? Cannot check in at all",
        "{brand} lost my luggage and nobody answers the phone. Scam!",
        "Great deal on {brand} tickets this weekend",
        "Heard {brand} had a data leak, my account was hacked",
    ],
    "tr": [
        "{brand} ile uçuş harikaydı, teşekkürler",
        "{brand} uçuşumu yine iptal etti, rezalet, paramı iade edin",
        "{brand} uygulaması çöktü, check-in yapamıyorum",
        "{brand} bagajımı kaybetti, dolandırıcılık bu",
    ],
    "pl": [
        "Lot z {brand} bardzo przyjemny, polecam",
        "{brand} znowu odwołał lot, skandal, chcę zwrot pieniędzy",
        "Aplikacja {brand} nie działa, awaria od rana",
        "{brand} zgubił mój bagaż, oszustwo",
    ],
    "id": [
        "Terbang dengan {brand} menyenangkan, terima kasih",
        "{brand} membatalkan penerbangan saya lagi, kecewa, minta refund",
        "Aplikasi {brand} error terus, tidak bisa check-in",
        "{brand} menghilangkan bagasi saya, penipuan",
    ],
    "ms": [
        "Penerbangan {brand} hari ini sangat baik",
        "{brand} batalkan penerbangan saya, teruk sungguh, nak bayaran balik",
        "Aplikasi {brand} rosak, tak boleh daftar masuk",
    ],
}


def synthetic_items(n: int, *, seed: int = 7):
    """N items over the last 24 h: a steady multilingual trickle plus three crisis bursts."""
    from django.utils import timezone

    from monitoring.sources.base import Item

    rng = random.Random(seed)
    now = timezone.now()
    languages = list(TEMPLATES)
    bursts = [now - timedelta(hours=h) for h in (18, 9, 0.2)]  # the last one is still going on
    items = []
    for i in range(n):
        language = rng.choice(languages)
        if rng.random() < 0.3:  # burst traffic is mostly negative
            at = min(rng.choice(bursts) + timedelta(seconds=rng.uniform(0, 1800)), now)
            template = rng.choice(TEMPLATES[language][1:])
        else:
            at = now - timedelta(seconds=rng.uniform(0, 86400))
            template = rng.choice(TEMPLATES[language])
        text = template.format(brand="Acme Air") + f" #{i % 997}"
        items.append(
            Item(
                external_id=f"bench-{i}",
                text=text,
                published_at=at,
                author=f"user{rng.randrange(5000)}",
                author_reach=int(rng.paretovariate(1.2) * 100),
                engagement=rng.randrange(50),
                language=language if rng.random() < 0.5 else "",
            )
        )
    items.sort(key=lambda item: item.published_at)
    return items


def crisislex_streams(data: Path) -> dict[str, list[str]]:
    """Each CrisisLex event's labelled tweet texts in tweet-id (time) order; {} without the data."""
    streams = {}
    for path in sorted((data / "crisislex").glob("*/*-tweets_labeled.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            rows = [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(fh)]
        rows.sort(key=lambda row: int(row["Tweet ID"].strip('"') or 0))
        streams[path.parent.name] = [row["Tweet Text"] for row in rows]
    return streams


def duplicate_hit_rates(streams: dict[str, list[str]], batch: int = 250) -> list[tuple[str, int, int, float]]:
    """(stream, texts, distinct texts, the duplicate cache's hit rate) per stream, each from an
    empty cache and scored in batches as ingest scores them."""
    from monitoring import scoring
    from monitoring.scoring.duplicates import duplicate_cache

    rates = []
    for name, texts in streams.items():
        duplicate_cache.clear()
        for offset in range(0, len(texts), batch):
            scoring.score_many(texts[offset : offset + batch])
        rates.append((name, len(texts), len(set(texts)), duplicate_cache.hit_rate))
    duplicate_cache.clear()
    return rates


def _delete_watch(watch) -> None:
    """Delete the run's rows (set-based: the ORM's collector would walk 100,000 mentions)."""
    from django.db import connection, transaction

    from incidents.models import Incident
    from monitoring.models import Bucket, Mention, Rule, Signal, Source

    with transaction.atomic():
        Signal.objects.filter(rule__watch=watch).delete()  # with their links to mentions
        with connection.cursor() as cursor:
            # Mentions are append-only (a trigger refuses DELETE): this purge of the bench's own rows says so.
            cursor.execute("SET LOCAL crisisdesk.purge = 'on'")
            cursor.execute(f"DELETE FROM {Mention._meta.db_table} WHERE watch_id = %s", [watch.pk])
        Incident.objects.filter(watch=watch).delete()
        Bucket.objects.filter(watch=watch).delete()
        Rule.objects.filter(watch=watch).delete()
        Source.objects.filter(watch=watch).delete()
        watch.delete()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="items per ingest call and per scoring batch")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's watch and mentions (default: delete them)"
    )
    parser.add_argument(
        "--open-incident", action="store_true", help="ingest while an incident owns the watch's mentions"
    )
    parser.add_argument(
        "--data", default=str(ROOT.parent / "shared" / "data"), help="benchmark data (for CrisisLex streams)"
    )
    args = parser.parse_args(argv)

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("bench/pipeline.py measures PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from crisisdesk.celery import app

    app.conf.broker_url = "memory://"  # ingest's nudge goes nowhere: this process drives the stages
    call_command("migrate", verbosity=0)

    from django.db.models import Sum
    from django.utils import timezone
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from monitoring import scoring
    from monitoring.detection.defaults import default_rules_for
    from monitoring.detection.services import detect_for_watch
    from monitoring.intake.ingest import ingest_items
    from monitoring.models import Bucket, Mention, Source, Watch
    from monitoring.scoring.duplicates import duplicate_cache
    from monitoring.scoring.rescore import score_new_mentions

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    watch = Watch.objects.create(name=f"Bench {stamp}", include_terms=["acme air"])
    for rule in default_rules_for(watch):
        rule.save()
    source = Source.objects.create(watch=watch, kind="webhook", name="bench")
    items = synthetic_items(args.n)
    if args.open_incident:
        from incidents.models import Incident

        Incident.objects.create(
            title="Bench crisis", watch=watch, owns_mentions_from=items[0].published_at - timedelta(minutes=1)
        )
    texts = [item.text for item in items]

    scoring.warm_up()
    duplicate_cache.clear()  # the run's hit rate from an empty cache, as a fresh worker has
    signals = 0
    stage_s = {"ingest": 0.0, "leftovers": 0.0, "detect": 0.0}
    cpu_started = time.process_time()
    started = time.perf_counter()
    for offset in range(0, len(items), args.batch):
        t0 = time.perf_counter()
        ingest_items(source=source, items=items[offset : offset + args.batch])
        t1 = time.perf_counter()
        while score_new_mentions(limit=args.batch):
            pass
        t2 = time.perf_counter()
        signals += len(detect_for_watch(watch_id=watch.pk))
        t3 = time.perf_counter()
        stage_s["ingest"] += t1 - t0
        stage_s["leftovers"] += t2 - t1
        stage_s["detect"] += t3 - t2
    elapsed = time.perf_counter() - started
    synthetic_hit_rate = duplicate_cache.hit_rate
    python_cpu_us = (time.process_time() - cpu_started) / len(items) * 1e6
    mentions_per_s = len(items) / elapsed

    stored = Mention.objects.filter(watch=watch, state="scored").count()
    counted = Bucket.objects.filter(watch=watch).aggregate(total=Sum("volume"))["total"] or 0
    if stored != len(items) or counted != len(items):
        print(
            f"ERROR: {len(items)} items, {stored} scored mentions stored, {counted} counted", file=sys.stderr
        )
        return 1
    attached = Mention.objects.filter(watch=watch, incident__isnull=False).count()
    if args.open_incident and attached != len(items):
        print(f"ERROR: {len(items)} items, {attached} attached to the open incident", file=sys.stderr)
        return 1

    analyzer = SentimentIntensityAnalyzer()
    analyzer.polarity_scores(texts[0])
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    vader_per_s = len(texts) / (time.perf_counter() - started)

    watch_id = watch.pk
    if not args.keep:  # every run starts from the same table size, not from the last run's leftovers
        _delete_watch(watch)

    # Where the time went, per mention: the stages' wall time, and this process's CPU (both threads;
    # the GIL lets only one run Python at a time, so this is the floor for the wall time).
    per = {name: seconds / len(items) * 1e6 for name, seconds in stage_s.items()}
    print(
        f"us_per_mention ingest={per['ingest']:.1f} leftovers={per['leftovers']:.1f} "
        f"detect={per['detect']:.1f} python_cpu={python_cpu_us:.1f}"
    )
    print(
        f"n={len(items)} pipeline_s={elapsed:.1f} stored_and_counted={stored} attached={attached} signals={signals} "
        f"watch_id={watch_id}"
    )
    print(
        f"duplicate_cache synthetic stream: texts={len(texts)} distinct={len(set(texts))} "
        f"hit_rate={synthetic_hit_rate:.3f}"
    )
    streams = crisislex_streams(Path(args.data))
    if not streams:
        print(f"duplicate_cache crisislex: skipped (no crisislex/*/*-tweets_labeled.csv under {args.data})")
    for name, n, distinct, rate in duplicate_hit_rates(streams):
        print(f"duplicate_cache crisislex {name}: texts={n} distinct={distinct} hit_rate={rate:.3f}")
    print(
        f"mentions_per_s={mentions_per_s:.0f} vader_per_s={vader_per_s:.0f} ratio={mentions_per_s / vader_per_s:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
