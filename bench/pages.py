"""Latency and query count of every page and API list a member opens, at a million mentions.

    python bench/pages.py [--requests 30] [--keep]

Creates its own PostgreSQL database (``cd_pages11_bench`` on the server of ``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432``), migrates it and fills it with set-based SQL
(``INSERT … SELECT FROM generate_series``): 20 watches, 1,000,000 mentions over 90 days, 90 days of
5-minute buckets per watch, 10,000 incidents (three signals and two timeline events each, a tenth of
the mentions attached to closed ones) and one open incident owning its watch's newest 20,000
mentions with 2,000 timeline events. Then ANALYZE, as autovacuum would after a bulk load.

Each URL is requested ``--requests`` times (after two warm-up requests) through Django's test
Client, signed in as a responder, and the script prints p50/p95 in milliseconds, the response size
and the query count of each; a query count that differs between requests is printed as a range.
The live stream's row measures its first response (the ``retry`` frame and the first outbox read).
The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support.postgres import admin_connection

BENCH_DATABASE = "cd_pages11_bench"
MENTIONS = 1_000_000
WATCHES = 20
DAYS = 90
INCIDENTS = 10_000
BIG_INCIDENT_MENTIONS = 20_000
BIG_INCIDENT_EVENTS = 2_000

FILL_SQL = [
    # Mentions: watch g mod 20, evenly spread over 90 days (newest last), a tenth attached to a closed
    # incident, the big incident's watch's newest 20,000 attached to it (set after the fact below).
    """
    INSERT INTO monitoring_mention (
        source_id, watch_id, external_id, url, author, author_reach, engagement, text, language,
        language_from_source, published_at, fetched_at, sentiment, sentiment_label, risk,
        crisis_terms, scenario_hint, state, scored_at, is_own, incident_id, raw)
    SELECT s.id, s.watch_id, 'bench-' || g, 'https://example.com/p/' || g, 'user' || (g %% 5000),
        ((g::bigint * 7919) %% 100000), g %% 50,
        (ARRAY['Flying with Acme Air today, smooth boarding and friendly crew',
               'Acme Air cancelled my flight again, terrible service, I want a refund',
               'Is the Acme Air app down? Cannot check in at all',
               'Acme Air lost my luggage and nobody answers the phone',
               'Acme Air uçuşumu yine iptal etti, rezalet',
               'Aplikasi Acme Air error terus, tidak bisa check-in'])[1 + g %% 6] || ' #' || (g %% 997),
        (ARRAY['en', 'en', 'en', 'en', 'tr', 'id'])[1 + g %% 6], false,
        %(now)s - (%(mentions)s - g) * (interval '90 days' / %(mentions)s), %(now)s,
        CASE WHEN g %% 6 IN (1, 3, 4) THEN -0.6 ELSE 0.4 END,
        CASE WHEN g %% 6 IN (1, 3, 4) THEN 'negative' ELSE 'positive' END,
        (g %% 100) / 100.0, '[]'::jsonb, '', 'scored', %(now)s, g %% 97 = 0,
        CASE WHEN g %% 10 = 0 AND s.watch_id <> %(big_watch)s
             THEN %(first_incident)s + 1 + (g / 10) %% (%(incidents)s - 1) END,
        '{}'::jsonb
    FROM generate_series(1, %(mentions)s) AS g
    JOIN (SELECT id, watch_id, row_number() OVER (ORDER BY id) - 1 AS n FROM monitoring_source) AS s
      ON s.n = g %% %(watches)s
    """,
    # 90 days of 5-minute buckets for every watch.
    """
    INSERT INTO monitoring_bucket (watch_id, start, volume, negative, positive, reach, risk_sum,
        risk_max, crisis_term_hits)
    SELECT w.id, date_bin('5 minutes', %(now)s - interval '90 days', 'epoch') + b * interval '5 minutes',
        2 + b %% 5, b %% 3, 1, 1000 + b %% 700, 0.5 * (2 + b %% 5), 0.9, b %% 2
    FROM monitoring_watch AS w, generate_series(0, 90 * 288) AS b
    """,
    # Three signals per incident, on its watch's first rule.
    """
    INSERT INTO monitoring_signal (rule_id, watch_id, detected_at, window_start, window_end, observed,
        expected, score, severity, summary, incident_id, reason, processed_at)
    SELECT r.id, i.watch_id, i.detected_at + k * interval '5 minutes',
        i.detected_at + k * interval '5 minutes' - interval '15 minutes',
        i.detected_at + k * interval '5 minutes', 40 + k, 8, 4.2, i.severity,
        '{"top_terms": [["refund", 12]], "top_authors": [["user1", 3]]}'::jsonb, i.id,
        'same watch', i.detected_at + k * interval '5 minutes'
    FROM incidents_incident AS i
    JOIN LATERAL (SELECT id FROM monitoring_rule WHERE watch_id = i.watch_id ORDER BY id LIMIT 1) AS r
      ON true, generate_series(0, 2) AS k
    """,
    # Two timeline events per incident, 2,000 on the big one (a tenth pre-crisis).
    """
    INSERT INTO incidents_timelineevent (incident_id, phase, kind, at, actor_id, text, mention_id,
        signal_id, links, data, recorded_at)
    SELECT i.id, 'during', 'status', i.detected_at + k * interval '1 minute', NULL,
        'Status changed (' || k || ')', NULL, NULL, '[]'::jsonb, '{}'::jsonb, i.detected_at
    FROM incidents_incident AS i, generate_series(0, 1) AS k WHERE i.id <> %(big)s
    """,
    """
    INSERT INTO incidents_timelineevent (incident_id, phase, kind, at, actor_id, text, mention_id,
        signal_id, links, data, recorded_at)
    SELECT %(big)s, CASE WHEN k < 200 THEN 'pre' ELSE 'during' END,
        CASE WHEN k %% 3 = 0 THEN 'signal' ELSE 'note' END,
        %(big_from)s + k * interval '90 seconds', NULL, 'Event ' || k || ' on the big incident',
        NULL, NULL, '[]'::jsonb, '{}'::jsonb, %(big_from)s + k * interval '90 seconds'
    FROM generate_series(0, %(big_events)s - 1) AS k
    """,
]


def bench_url(base: str) -> str:
    parsed = urlparse(base)
    return urlunparse(parsed._replace(path=f"/{BENCH_DATABASE}"))


def recreate_database(url: str) -> None:
    admin = admin_connection(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    admin.close()


def drop_database(url: str) -> None:
    from django.db import connections

    connections.close_all()
    admin = admin_connection(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    admin.close()


def fill() -> dict[str, int]:
    """The data set, in set-based SQL; returns the ids the measured URLs need."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from crisisdesk.roles import RESPONDER
    from monitoring.detection.defaults import default_rules_for
    from monitoring.models import Source, Watch

    now = timezone.now()
    with transaction.atomic():
        watches = [
            Watch.objects.create(name=f"Bench watch {n:02d}", include_terms=["acme"]) for n in range(WATCHES)
        ]
        for watch in watches:
            Source.objects.create(watch=watch, kind="webhook", name="bench")
            for rule in default_rules_for(watch):
                rule.save()
        big_watch = watches[1]
        member = get_user_model().objects.create_user("bench-responder", password="x")
        member.groups.add(Group.objects.get(name=RESPONDER))
        big_from = now - timedelta(days=DAYS) * BIG_INCIDENT_MENTIONS * WATCHES / MENTIONS
        with connection.cursor() as cursor:
            # 9,999 closed incidents over 90 days (a few still open on other watches), then the big one.
            cursor.execute(
                """
                INSERT INTO incidents_incident (title, watch_id, scenario_hint, severity, status, summary,
                    public_summary, detected_at, first_response_minutes, escalation_tier, updated_at,
                    resolved_at, closed_at)
                SELECT 'Incident ' || g, w.id, '', 1 + g %% 4,
                    CASE WHEN g <= 3 THEN 'acknowledged' WHEN g %% 2 = 0 THEN 'closed' ELSE 'resolved' END,
                    '', '', %(now)s - g * (interval '90 days' / %(n)s), 30, 1, %(now)s,
                    CASE WHEN g > 3 THEN %(now)s - g * (interval '90 days' / %(n)s) + interval '6 hours' END,
                    CASE WHEN g > 3 AND g %% 2 = 0 THEN %(now)s END
                FROM generate_series(1, %(n)s - 1) AS g
                JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM monitoring_watch
                      WHERE id <> %(big_watch)s) AS w ON w.n = g %% (%(watches)s - 1)
                ORDER BY g DESC
                """,
                {"now": now, "n": INCIDENTS, "big_watch": big_watch.pk, "watches": WATCHES},
            )
            cursor.execute(
                """
                INSERT INTO incidents_incident (title, watch_id, scenario_hint, severity, status, summary,
                    public_summary, detected_at, owns_mentions_from, first_signal_at,
                    first_response_minutes, escalation_tier, updated_at)
                VALUES ('The big one', %s, '', 1, 'responding', '', '', %s, %s, %s, 30, 1, %s) RETURNING id
                """,
                [big_watch.pk, big_from + timedelta(hours=3), big_from, big_from, now],
            )
            big = cursor.fetchone()[0]
            cursor.execute("SELECT min(id) FROM incidents_incident")
            first_incident = cursor.fetchone()[0] - 1
            params = {
                "now": now,
                "mentions": MENTIONS,
                "watches": WATCHES,
                "big_watch": big_watch.pk,
                "first_incident": first_incident,
                "incidents": INCIDENTS,
                "big": big,
                "big_from": big_from,
                "big_events": BIG_INCIDENT_EVENTS,
            }
            for statement in FILL_SQL:
                cursor.execute(statement, params)
            cursor.execute(
                """
                UPDATE monitoring_mention SET incident_id = %s WHERE id IN (
                    SELECT id FROM monitoring_mention WHERE watch_id = %s
                    ORDER BY published_at DESC, id DESC LIMIT %s)
                """,
                [big, big_watch.pk, BIG_INCIDENT_MENTIONS],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT id FROM incidents_timelineevent WHERE incident_id = %s AND phase = 'during' "
            "ORDER BY at DESC, id DESC OFFSET 49 LIMIT 1",
            [big],
        )
        before = cursor.fetchone()[0]
    return {"member": member.pk, "big": big, "big_watch": big_watch.pk, "before": before}


def measure(ids: dict[str, int], requests: int) -> list[tuple[str, float, float, int, str]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    big, watch = ids["big"], ids["big_watch"]
    urls = [
        "/incidents/",
        "/incidents/?status=closed",
        "/incidents/?status=all",
        "/incidents/?status=all&severity=2",
        f"/incidents/?status=all&watch={watch}",
        "/",
        f"/incidents/{big}/",
        f"/incidents/{big}/timeline/?phase=during&before={ids['before']}",
        "/monitoring/mentions/",
        "/monitoring/mentions/?q=luggage",
        "/monitoring/mentions/?q=refund&watch=" + str(watch),
        f"/monitoring/watches/{watch}/",
        "/api/incidents/",
        "/api/incidents/?status=all",
        "/api/incidents/?status=all&page=150",
        "/api/mentions/",
        "/api/mentions/?q=luggage",
        f"/api/mentions/?watch={watch}",
        "/api/signals/",
        "/api/signals/?page=500",
        f"/live/?topics=incident:{big},incidents&here=incident:{big}",
    ]
    client = Client()
    client.force_login(get_user_model().objects.get(pk=ids["member"]))
    rows = []
    for url in urls:
        timings: list[float] = []
        counts: set[int] = set()
        size = 0
        for attempt in range(requests + 2):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                if response.streaming:
                    # The stream never ends by itself: its first frame and the first outbox read.
                    stream = iter(response.streaming_content)
                    body = next(stream) + next(stream)
                    response.close()
                else:
                    body = response.content
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if attempt >= 2:
                timings.append(elapsed)
                counts.add(len(queries))
                size = len(body)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
        query_count = str(min(counts)) if len(counts) == 1 else f"{min(counts)}–{max(counts)}"
        rows.append((url, statistics.median(timings), p95, size, query_count))
        print(
            f"{url:<62} p50 {rows[-1][1]:7.1f} ms  p95 {p95:7.1f} ms  {size / 1024:7.1f} KB  q {query_count}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=30, help="measured requests per URL (after 2 warm-ups)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the bench database (and reuse it with --reuse)"
    )
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by an earlier --keep")
    args = parser.parse_args(argv)

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith("postgres"):
        print("bench/pages.py measures PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    url = bench_url(base)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from crisisdesk.celery import app

    app.conf.broker_url = "memory://"  # nothing here needs a worker
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if args.reuse:
        ids = reused_ids()
    else:
        ids = fill()
        print(f"filled in {time.perf_counter() - started:.1f} s: {ids}")
    try:
        measure(ids, args.requests)
    finally:
        if not args.keep:
            drop_database(url)
    return 0


def reused_ids() -> dict[str, int]:
    """The ids ``fill`` returned, read back from a kept database."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from incidents.models import Incident

    big = Incident.objects.get(title="The big one")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM incidents_timelineevent WHERE incident_id = %s AND phase = 'during' "
            "ORDER BY at DESC, id DESC OFFSET 49 LIMIT 1",
            [big.pk],
        )
        before = cursor.fetchone()[0]
    member = get_user_model().objects.get(username="bench-responder")
    return {"member": member.pk, "big": big.pk, "big_watch": big.watch_id, "before": before}


if __name__ == "__main__":
    sys.exit(main())
