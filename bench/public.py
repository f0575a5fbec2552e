"""Requests per second for a live dark site's public page and feed, behind gunicorn.

    python bench/public.py --stack laptop       # SQLite + the shared folder cache (the README's stack)
    python bench/public.py --stack postgres     # PostgreSQL + Redis cache
        [--seconds 10] [--clients 16] [--processes 2] [--database-url URL] [--cache-url URL]

It migrates a database, prepares a watch's dark site in two languages, opens an incident, switches
the site on and publishes three approved updates through the real services (two people: one
writes, one approves), then starts gunicorn as the Procfile does (2 workers x 4 threads) on a free
127.0.0.1 port and hammers it with keep-alive HTTP clients for ``--seconds`` per round: the page,
the feed, and the page revalidated with ``If-None-Match`` (304). Each round reports req/s, p50/p99
latency and status codes. On PostgreSQL it also reads ``pg_stat_database`` before and after the
cached rounds: ``db_table_scans`` counts every read of a table meanwhile (it must stay 0: cached
hits never touch the database); ``db_transactions`` also counts our own stats reads and
autovacuum's work after the seeding. Last line: ``page_rps=X feed_rps=Y revalidate_rps=Z …``.

The load generator runs on the same 2 cores as the server, so the figures are a floor for the
server alone; ``uptime`` beside them says how busy the machine was.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "bench-air"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def configure(stack: str, database_url: str, cache_url: str, var_dir: str) -> dict[str, str]:
    """The environment both this process and gunicorn run with."""
    env = {
        "DJANGO_SETTINGS_MODULE": "crisisdesk.settings",
        "CRISISDESK_VAR_DIR": var_dir,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    if stack == "laptop":
        env["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
        os.environ.pop("CACHE_URL", None)  # the laptop default: a folder under CRISISDESK_VAR_DIR
    else:
        env["DATABASE_URL"] = database_url
        env["CACHE_URL"] = cache_url
    os.environ.update(env)
    return env


def seed() -> None:
    """Migrate and publish a live site through the services, as people would."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from incidents.models import DarkSite, Incident
    from incidents.publishing.services import (
        darksite_content_save,
        darksite_go_live,
        darksite_prepare,
        darksite_publish,
    )
    from incidents.response.services import draft_approve, draft_create, draft_submit
    from monitoring.models import Watch

    call_command("migrate", verbosity=0)
    cache.clear()
    watch, _ = Watch.objects.get_or_create(name="Bench Air", defaults={"languages": ["en", "tr"]})
    writer, _ = User.objects.get_or_create(username="bench-writer")
    approver, _ = User.objects.get_or_create(username="bench-approver")
    writer.groups.add(Group.objects.get(name="responder"))
    approver.groups.add(Group.objects.get(name="manager"))
    site = DarkSite.objects.filter(watch=watch).first()
    if site is None:
        site = darksite_prepare(watch=watch, slug=SLUG, by=approver)
        faq = [{"question": f"Question {n}?", "answer": f"Answer {n}. " * 20} for n in range(8)]
        for language in ("en", "tr"):
            darksite_content_save(
                site=site,
                language=language,
                by=approver,
                title=f"Bench Air status ({language})",
                background="What we know so far. " * 30,
                faq=faq,
                press_contact="press@bench-air.example",
                customer_contact="help@bench-air.example",
            )
    incident = Incident.objects.filter(watch=watch, status__in=["detected", "acknowledged"]).first()
    if incident is None:
        incident = Incident.objects.create(watch=watch, title="Bench incident")
    site.refresh_from_db()
    if site.incident_id != incident.pk or site.state != "live":
        darksite_go_live(site=site, incident=incident, by=approver)
    if not incident.public_updates.exists():
        for n in range(3):
            with transaction.atomic():
                draft = draft_create(incident=incident, by=writer, body=f"Update {n}: " + "Details. " * 60)
                draft_submit(draft=draft, by=writer)
                draft_approve(draft=draft, by=approver)
                darksite_publish(
                    draft=draft, by=writer, next_update_due=timezone.now() + timedelta(hours=n + 1)
                )


def _client(port: int, path: str, seconds: float, headers: dict[str, str], out: queue.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    codes: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            codes[0] = codes.get(0, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - now)
        codes[response.status] = codes.get(response.status, 0) + 1
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out.put((latencies, codes))


def _process(port: int, path: str, seconds: float, headers: dict[str, str], threads: int, out) -> None:
    inner: queue.Queue = queue.Queue()
    workers = [
        threading.Thread(target=_client, args=(port, path, seconds, headers, inner)) for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    results = [inner.get() for _ in workers]
    for worker in workers:
        worker.join()
    out.put(results)


def hammer(port: int, path: str, *, seconds: float, clients: int, processes: int, headers: dict[str, str]):
    out: multiprocessing.Queue = multiprocessing.Queue()
    per_process = max(1, clients // processes)
    procs = [
        multiprocessing.Process(target=_process, args=(port, path, seconds, headers, per_process, out))
        for _ in range(processes)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    codes: dict[int, int] = {}
    for _ in procs:
        for lat, code in out.get():
            latencies.extend(lat)
            for status, count in code.items():
                codes[status] = codes.get(status, 0) + count
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    rps = len(latencies) / seconds
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    return rps, p50, p99, codes, elapsed


def pg_reads(database_url: str) -> tuple[int, int]:
    """(transactions the database has seen, scans of its tables): autovacuum's ANALYZE after the
    seeding adds transactions but no scans, so scans say whether a request read a row."""
    import psycopg2

    # An idle backend (gunicorn keeps its connection for CONN_MAX_AGE) flushes what it counted
    # within 10 s (PostgreSQL's PGSTAT_IDLE_INTERVAL): wait that out so the warm-up lands before.
    time.sleep(11)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        transactions = cur.fetchone()
        cur.execute("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables")
        scans = cur.fetchone()
    return int(transactions[0]) if transactions else 0, int(scans[0]) if scans else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", choices=["laptop", "postgres"], default="laptop")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/crisisdesk_bench")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="crisisdesk-bench-public-")
    env = configure(args.stack, args.database_url, args.cache_url, var_dir)
    seed_proc = multiprocessing.get_context("fork").Process(target=seed)
    seed_proc.start()
    seed_proc.join()
    if seed_proc.exitcode:
        sys.exit(f"seeding failed ({seed_proc.exitcode})")

    port = _free_port()
    server_env = {**os.environ, **env}
    if args.stack == "laptop":
        server_env.pop("CACHE_URL", None)
    gunicorn = [
        sys.executable, "-m", "gunicorn", "crisisdesk.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "4", "--graceful-timeout", "5", "--no-control-socket",
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=server_env)
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", f"/status/{SLUG}/")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("gunicorn did not answer")
        page = f"/status/{SLUG}/"
        feed = f"/status/{SLUG}/feed/"
        warm = http.client.HTTPConnection("127.0.0.1", port)
        for path in (page, feed) * 4:  # the first reads fill the shared cache, in the rounds' language
            warm.request("GET", path, headers={"Accept-Language": "tr,en;q=0.5"})
            warm.getresponse().read()
        warm.request("GET", page, headers={"Accept-Language": "tr,en;q=0.5"})
        response = warm.getresponse()
        response.read()
        etag = response.getheader("ETag") or ""
        warm.close()

        before = pg_reads(args.database_url) if args.stack == "postgres" else None
        results = {}
        for name, path, headers in (
            ("page", page, {"Accept-Language": "tr,en;q=0.5"}),
            ("feed", feed, {"Accept-Language": "tr,en;q=0.5"}),
            ("revalidate", page, {"If-None-Match": etag, "Accept-Language": "tr,en;q=0.5"}),
        ):
            rps, p50, p99, codes, _ = hammer(
                port,
                path,
                seconds=args.seconds,
                clients=args.clients,
                processes=args.processes,
                headers=headers,
            )
            results[name] = rps
            print(
                f"{name:<11} {rps:8.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  codes {codes}",
                flush=True,
            )
        after = pg_reads(args.database_url) if args.stack == "postgres" else None
        load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        db = (
            f" db_transactions={after[0] - before[0]} db_table_scans={after[1] - before[1]}"
            if before is not None and after is not None
            else ""
        )
        print(
            f"stack={args.stack} page_rps={results['page']:.0f} feed_rps={results['feed']:.0f} "
            f"revalidate_rps={results['revalidate']:.0f}{db} load={' '.join(load)}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
