"""Which outside services this machine offers the tests.
Tests that need PostgreSQL, Redis or Chromium use them when present and otherwise skip —
except under CI=true, where a missing one is a failure."""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(available: bool, what: str) -> None:
    """Skip (laptop) or fail (CI=true) the calling test when ``what`` is missing."""
    if available:
        return
    message = f"{what} is not available"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: required)")
    pytest.skip(message)


def redis_url() -> str:
    """The Redis base URL for worker tests, without a db number (that is chosen per xdist worker)."""
    parts = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"))
    return f"{parts.scheme}://{parts.netloc}"


def redis_db_url(offset: int) -> str:
    """``redis_url()`` with db ``first + offset``: ``first`` is the db number ``TEST_REDIS_URL``
    names (``redis://host:6379/8`` keeps one run's tests on dbs 8 and up), 0 when it names none."""
    path = urlsplit(os.environ.get("TEST_REDIS_URL", "")).path.strip("/")
    first = int(path) if path.isdigit() else 0
    return f"{redis_url()}/{first + offset}"


def require_redis() -> None:
    """Skip or fail unless the Redis of ``TEST_REDIS_URL`` answers (the port the tests will use)."""
    parts = urlsplit(redis_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    require(port_open(host, port), f"Redis on {host}:{port}")


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require_chromium() -> None:
    require(shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}")


def xdist_worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
