"""Fault injection: mentions pushed by the signed webhook survive killed workers, a broker outage
and dropped database connections — every one stored once, counted once, one incident.

    python bench/faults.py [--n 20000] [--batch 200] [--senders 4]

It starts its own stack on PostgreSQL (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/cd_faults``; created and migrated when missing): a
``redis-server`` on ``--redis-port`` (its own, never the shared 6379), gunicorn on ``--web-port``,
a Celery worker on every queue and beat (the sweeper). A watch with the default rules and a
webhook source receive N synthetic mentions (bench/pipeline.py's multilingual trickle with crisis
bursts), sent in signed batches by ``--senders`` threads that
retry what did not get a 202, as a real sender does. While they send, the faults run in turn:

- the Celery worker is SIGKILLed ``--kills`` times (and started again each time);
- the broker is down for ``--broker-outage`` seconds (this run's redis-server is SIGKILLed and
  started again empty: every queued message is lost);
- every connection to this run's database is terminated (``pg_terminate_backend``, what a database
  restart does to its clients; the shared PostgreSQL server itself is never restarted).

Then it lets the sweeper catch up and prints, last line::

    sent=N stored=S duplicated=D bucket_sum=B count=C incidents=I open_incidents=O signals=G
    race_8_way_incidents=R ok=true

Last, ``--race`` (8) signals of another watch are escalated at the same instant from as many
database connections. ``ok`` is true when every mention was stored once (S == N, D == 0), the
5-minute buckets add up to ``COUNT(*)`` (B == C == N), the flood opened exactly one incident, and the
race opened one incident holding all its signals. Exit status 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support.postgres import admin_connection, ensure_database  # noqa: E402 - after the path line above

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cd_faults"
BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Stack:
    """The processes this run started, each in its own process group so a kill reaches its children."""

    def __init__(self, *, env: dict[str, str], redis_port: int, web_port: int, logs: Path) -> None:
        self.env = env
        self.redis_port = redis_port
        self.web_port = web_port
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, command: list[str]) -> None:
        output = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_redis(self) -> None:
        self._start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.logs),
            ],
        )
        for _ in range(50):
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def start_web(self) -> None:
        self._start(
            "web",
            [
                str(BIN / "gunicorn"),
                "crisisdesk.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--no-control-socket",
            ],
        )

    def start_worker(self) -> None:
        self._start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "crisisdesk",
                "worker",
                "-Q",
                "default,ingest,scoring,notifications",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def start_beat(self) -> None:
        self._start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "crisisdesk",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(self.logs / "celerybeat-schedule"),
            ],
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it died by itself meanwhile
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)


def terminate_connections(url: str) -> int:
    """End every other session on this run's database: what its clients see when PostgreSQL restarts."""
    parsed = urlparse(url)
    admin = admin_connection(url)
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [parsed.path.lstrip("/")],
        )
        ended = cursor.fetchone()[0]
    admin.close()
    return int(ended)


def batches_of(items: list, size: int) -> list[bytes]:
    bodies = []
    for offset in range(0, len(items), size):
        mentions = [
            {
                "external_id": item.external_id,
                "text": item.text,
                "published_at": item.published_at.isoformat(),
                "author": item.author,
                "author_reach": item.author_reach,
                "engagement": item.engagement,
                "language": item.language,
            }
            for item in items[offset : offset + size]
        ]
        bodies.append(json.dumps({"mentions": mentions}).encode())
    return bodies


class Sender:
    """Threads that post every batch until it gets a 202, retrying connection errors and 5xx."""

    def __init__(self, *, url: str, secret: str, bodies: list[bytes], threads: int) -> None:
        self.url = url
        self.secret = secret
        self.pending = list(reversed(bodies))
        self.lock = threading.Lock()
        self.statuses: dict[str, int] = {}
        self.accepted = 0
        self.duplicates = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _count(self, status: str) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def _run(self) -> None:
        import httpx

        from monitoring.sources.webhook import sign

        with httpx.Client(timeout=60) as client:
            while True:
                with self.lock:
                    if not self.pending:
                        return
                    body = self.pending.pop()
                for _attempt in range(200):
                    try:
                        response = client.post(
                            self.url,
                            content=body,
                            headers={
                                "Content-Type": "application/json",
                                "X-CrisisDesk-Signature": sign(self.secret, body),
                            },
                        )
                    except httpx.HTTPError as error:
                        self._count(type(error).__name__)
                        time.sleep(0.5)
                        continue
                    self._count(str(response.status_code))
                    if response.status_code == 202:
                        answer = response.json()
                        with self.lock:
                            self.accepted += answer["accepted"]
                            self.duplicates += answer["duplicates"]
                        break
                    time.sleep(0.5 if response.status_code >= 500 else 1.0)
                else:
                    raise RuntimeError("a batch was never accepted")

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)


def race_escalation(*, ways: int, stamp: str) -> tuple[int, int, int]:
    """``ways`` signals of one quiet watch escalated at the same instant, each on its own database
    connection. Returns (incidents opened, signals attached, errors): (1, ways, 0) when the partial
    unique index and the opening service hold."""
    from django.db import connection
    from django.utils import timezone

    from bench.pipeline import _delete_watch
    from incidents.lifecycle.opening import open_or_attach
    from incidents.models import Incident
    from monitoring.detection.defaults import default_rules_for
    from monitoring.models import Signal, Watch

    watch = Watch.objects.create(name=f"Faults race {stamp}", include_terms=["acme air"])
    rules = default_rules_for(watch)
    for rule in rules:
        rule.save()
    now = timezone.now()
    signal_ids = [
        Signal.objects.create(
            rule=rules[i % len(rules)],
            watch=watch,
            # One window per signal: a rule breaches a window once (signal_unique_rule_window).
            window_start=now - timedelta(minutes=15 + i),
            window_end=now - timedelta(minutes=i),
            observed=40 + i,
            expected=2,
            severity=2,
            summary={"top_terms": ["outage"]},
        ).pk
        for i in range(ways)
    ]
    barrier = threading.Barrier(ways)
    errors: list[BaseException] = []

    def escalate(signal_id: int) -> None:
        try:
            barrier.wait()
            open_or_attach(signal_id=signal_id)
        except BaseException as error:  # counted and reported, not raised in a thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=escalate, args=(signal_id,)) for signal_id in signal_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    incidents = Incident.objects.filter(watch=watch).count()
    attached = Signal.objects.filter(watch=watch, incident__isnull=False).count()
    _delete_watch(watch)
    return incidents, attached, len(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200, help="mentions per webhook request")
    parser.add_argument("--senders", type=int, default=4, help="concurrent sender threads")
    parser.add_argument("--kills", type=int, default=3, help="worker SIGKILLs while sending")
    parser.add_argument("--fault-every", type=float, default=3.0, help="seconds between faults")
    parser.add_argument("--broker-outage", type=float, default=5.0, help="seconds the broker is down")
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--web-port", type=int, default=8791)
    parser.add_argument("--race", type=int, default=8, help="signals escalated at once on a quiet watch")
    parser.add_argument("--settle", type=float, default=240.0, help="most seconds to wait for the sweeper")
    args = parser.parse_args(argv)

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("bench/faults.py needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    broker = f"redis://127.0.0.1:{args.redis_port}/0"
    os.environ.update(
        {"DJANGO_SETTINGS_MODULE": "crisisdesk.settings", "CELERY_BROKER_URL": broker, "REDIS_URL": broker}
    )
    ensure_database(url)

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the figures
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Sum
    from django.utils import timezone

    from bench.pipeline import _delete_watch, synthetic_items
    from incidents.models import Incident
    from monitoring.detection.defaults import default_rules_for
    from monitoring.models import Bucket, Mention, Signal, Source, Watch

    call_command("migrate", verbosity=0)

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    watch = Watch.objects.create(name=f"Faults {stamp}", include_terms=["acme air"])
    for rule in default_rules_for(watch):
        rule.save()
    source = Source.objects.create(watch=watch, kind="webhook", name="faults", secret=f"faults-{stamp}")
    items = synthetic_items(args.n)
    bodies = batches_of(items, args.batch)
    connection.close()  # the stack's processes and the faults below share the database

    logs = Path(tempfile.mkdtemp(prefix="crisisdesk-faults-"))
    env = {**os.environ, "CRISISDESK_VAR_DIR": str(logs), "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "60"}
    stack = Stack(env=env, redis_port=args.redis_port, web_port=args.web_port, logs=logs)
    faults: list[str] = []
    try:
        stack.start_redis()
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        time.sleep(4)  # gunicorn and the worker import Django
        log(f"stack up (logs in {logs}); sending {len(items)} mentions in {len(bodies)} signed batches")

        sender = Sender(
            url=f"http://127.0.0.1:{args.web_port}/api/sources/{source.pk}/webhook/",
            secret=source.secret,
            bodies=bodies,
            threads=args.senders,
        )
        started = time.perf_counter()
        sender.start()
        # The broker and database faults early, between worker kills, so a fast run still gets them all.
        plan = ["kill", "broker", "kill", "database", *["kill"] * max(args.kills - 2, 0)]
        # One fault every --fault-every seconds while the senders are still sending.
        for fault in plan:
            time.sleep(args.fault_every)
            if not sender.alive():
                break
            if fault == "kill":
                stack.kill("worker")
                faults.append("worker SIGKILL")
                log("SIGKILLed the worker")
                time.sleep(1.0)
                stack.start_worker()
            elif fault == "broker":
                stack.kill("redis")
                faults.append(f"broker down {args.broker_outage:.0f} s")
                log("broker down")
                time.sleep(args.broker_outage)
                stack.start_redis()
                log("broker back (empty)")
            else:
                ended = terminate_connections(url)
                faults.append(f"database connections terminated ({ended})")
                log(f"terminated {ended} database connections")
        for thread in sender.threads:
            thread.join()
        send_s = time.perf_counter() - started
        log(f"sent in {send_s:.1f} s; answers {dict(sorted(sender.statuses.items()))}")

        # The sweeper (beat, 30 s) re-nudges detection and escalation that the faults lost.
        deadline = time.monotonic() + args.settle
        last = None
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            state = (
                Signal.objects.filter(watch=watch, processed_at__isnull=True).count(),
                Signal.objects.filter(watch=watch).count(),
                Incident.objects.filter(watch=watch).count(),
            )
            connection.close()
            if state != last:
                last, quiet_since = state, time.monotonic()
            elif state[0] == 0 and time.monotonic() - quiet_since > 75:  # two sweeps without change
                break
            time.sleep(5)
        settle_s = time.perf_counter() - started - send_s
    finally:
        stack.stop_all()

    stored = Mention.objects.filter(source=source).count()
    duplicated = (
        Mention.objects.filter(source=source)
        .values("external_id")
        .annotate(copies=Count("id"))
        .filter(copies__gt=1)
        .count()
    )
    count = Mention.objects.filter(watch=watch).count()
    bucket_sum = Bucket.objects.filter(watch=watch).aggregate(total=Sum("volume"))["total"] or 0
    incidents = Incident.objects.filter(watch=watch).count()
    open_incidents = Incident.objects.filter(watch=watch).exclude(status__in=["resolved", "closed"]).count()
    signals = Signal.objects.filter(watch=watch).count()
    unprocessed = Signal.objects.filter(watch=watch, processed_at__isnull=True).count()
    _delete_watch(Watch.objects.get(pk=watch.pk))
    raced_incidents, raced_attached, race_errors = race_escalation(ways=args.race, stamp=stamp)
    ok = (
        stored == len(items)
        and duplicated == 0
        and bucket_sum == count == len(items)
        and incidents == 1
        and (raced_incidents, raced_attached, race_errors) == (1, args.race, 0)
    )
    log(
        f"faults: {', '.join(faults)}; settled {settle_s:.0f} s after sending; unprocessed signals {unprocessed}"
    )
    log(f"{args.race}-way concurrent escalation: {raced_attached} signals attached, {race_errors} errors")
    print(
        f"sent={len(items)} stored={stored} duplicated={duplicated} bucket_sum={bucket_sum} count={count} "
        f"incidents={incidents} open_incidents={open_incidents} signals={signals} "
        f"race_{args.race}_way_incidents={raced_incidents} ok={str(ok).lower()}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
