"""The webhook's quota and memory of signatures are shared: across processes and cache clients."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.checks import run_checks
from django.db import connection
from django.utils import timezone

from crisisdesk.cache import DatabaseCache
from monitoring.intake.webhook_guard import parse_rate, quota_charge, signature_claim, signature_release
from tests.availability import redis_url, require_redis

ROOT = Path(__file__).resolve().parents[3]
RATE = {"webhook_credential": "250/min"}


@pytest.fixture
def rate(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATE}


def test_laptop_mode_counts_in_the_database_cache():
    assert isinstance(caches["default"], DatabaseCache)


def test_the_database_cache_counts_and_keeps_the_expiry(db):
    cache.set("counted", 3, timeout=60)
    cache.incr("counted")

    assert cache.incr("counted", 5) == 9
    assert cache.get("counted") == 9
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")


def test_the_database_cache_does_not_count_an_expired_key(db):
    cache.set("stale", 1, timeout=60)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crisisdesk_cache SET expires = %s",
            [connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(seconds=5))],
        )

    with pytest.raises(ValueError):
        cache.incr("stale")


def test_a_quota_allows_its_rate_per_window_then_says_when(db, rate):
    now = 1_796_169_630.5  # half a minute into a window
    answers = [quota_charge(source_id=1, now=now) for _ in range(251)]

    assert [a.allowed for a in answers].count(True) == 250
    assert answers[-1].allowed is False and answers[-1].retry_after == 30
    assert quota_charge(source_id=1, now=now + 30).allowed  # the next window starts empty
    assert quota_charge(source_id=2, now=now).allowed  # another credential has its own


def test_no_rate_means_no_limit(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"webhook_credential": None},
    }

    assert all(quota_charge(source_id=1, now=0).allowed for _ in range(5))


@pytest.mark.parametrize(
    ("text", "parsed"), [("600/min", (600, 60)), ("10/s", (10, 1)), ("5/hour", (5, 3600))]
)
def test_rates_parse_like_drfs(text, parsed):
    assert parse_rate(text) == parsed


@pytest.mark.parametrize("text", ["lots", "600", "600/fortnight", "-1/min"])
def test_a_bad_rate_is_refused(text):
    with pytest.raises(ValueError, match="is not a rate"):
        parse_rate(text)


def test_a_signature_is_claimed_once_until_released(db):
    assert signature_claim(source_id=1, signature="abc", remember_seconds=300) is True
    assert signature_claim(source_id=1, signature="abc", remember_seconds=300) is False
    assert signature_claim(source_id=2, signature="abc", remember_seconds=300) is True

    signature_release(source_id=1, signature="abc")

    assert signature_claim(source_id=1, signature="abc", remember_seconds=300) is True


def test_an_unreachable_cache_lets_requests_through(db, rate, caplog):
    unreachable = RedisCache(f"redis://127.0.0.1:{_closed_port()}", {})

    assert quota_charge(source_id=1, now=0, shared=unreachable).allowed
    assert signature_claim(source_id=1, signature="abc", remember_seconds=30, shared=unreachable)
    signature_release(source_id=1, signature="abc", shared=unreachable)
    assert "the cache is unavailable" in caplog.text


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when we return: nothing listens there


def test_a_per_process_cache_is_a_warning(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert "crisisdesk.W003" in [message.id for message in run_checks()]


def test_a_bad_rate_or_window_setting_is_an_error(settings):
    settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"webhook_credential": "x"},
    }

    ids = [message.id for message in run_checks()]

    assert "monitoring.E001" in ids and "monitoring.E002" in ids


# --- Two processes, one database cache table ------------------------------------------------------


def _database_url(tmp_path: Path) -> str:
    """A URL a second process can open: the test database on PostgreSQL; on SQLite (whose test
    database lives in this process's memory) a file with just the cache table."""
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        return (
            f"postgres://{settings_dict['USER']}{password}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "createcachetable"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        timeout=120,
    )
    return url


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_quota_and_one_memory_of_signatures(tmp_path):
    url = _database_url(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEBHOOK_THROTTLE": RATE["webhook_credential"],
        "CRISISDESK_VAR_DIR": str(tmp_path / "var"),
    }
    source_id = random.randint(10**8, 10**9)  # rows outlive the test on PostgreSQL: a fresh key
    start_at = time.time() + 4  # both are past Django's start-up by then, so they really overlap
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.monitoring.intake.webhook_guard_process",
                str(source_id),
                "200",
                "1796169630",
                str(start_at),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [json.loads(worker.communicate(timeout=180)[0]) for worker in workers]

    assert all(worker.returncode == 0 for worker in workers)
    # 400 requests at one moment against 250/min: exactly 250 allowed, whichever process sent them.
    assert sum(result["allowed"] for result in results) == 250
    # Each process claimed the same 50 signatures: each one was won exactly once.
    assert sum(result["claimed"] for result in results) == 50


# --- Two Redis clients (production) ----------------------------------------------------------------


@pytest.mark.django_db
def test_two_redis_clients_share_one_quota_and_one_memory_of_signatures(rate):
    require_redis()
    prefix = f"test-{uuid.uuid4().hex}"
    clients = [RedisCache(redis_url(), {"KEY_PREFIX": prefix}) for _ in range(2)]
    allowed = [0, 0]
    claimed = [0, 0]

    def work(index: int) -> None:
        for n in range(200):
            allowed[index] += quota_charge(source_id=7, now=1_796_169_630, shared=clients[index]).allowed
            if n < 50:
                claimed[index] += signature_claim(
                    source_id=7, signature=f"sig-{n}", remember_seconds=30, shared=clients[index]
                )

    threads = [threading.Thread(target=work, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(allowed) == 250
    assert sum(claimed) == 50
    assert clients[0].get("webhook:quota:7:60:29936160") == 400
