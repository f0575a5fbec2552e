"""The README's promise: `make run` starts web + worker + beat in laptop mode, and within 90 seconds
the Acme Air drill has opened an incident that a responder sees on the dashboard.

This starts the real stack the way `make run` does (migrate, collectstatic, seed_demo, then honcho on
the Procfile) in a temporary CRISISDESK_VAR_DIR on a free port, with no services at all: SQLite and
Celery's filesystem transport. It always tears the whole process tree down.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.utils.html import escape

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OPEN_STATUSES = ("detected", "acknowledged", "responding", "monitoring")
DEADLINE_S = 90
# Production-shaped variables a developer or CI may have set; laptop mode has none of them.
NOT_IN_LAPTOP_MODE = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "HTTPS",
    "SECURE_SSL_REDIRECT",
    "DEBUG",
    "STATICFILES_BACKEND",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _laptop_env(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_IN_LAPTOP_MODE}
    env.update(
        CRISISDESK_VAR_DIR=str(var_dir),
        STATIC_ROOT=str(var_dir / "staticfiles"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _kill_tree(honcho: subprocess.Popen, log_path: Path) -> None:
    """Stop honcho (which stops its children), then make sure every child's group is gone."""
    if honcho.poll() is None:
        honcho.send_signal(signal.SIGTERM)
        try:
            honcho.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=5)
    # honcho starts each Procfile process in its own session and logs "started with pid N".
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    for pid in {int(p) for p in re.findall(r"started with pid (\d+)", text)}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def laptop_stack(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    var_dir = tmp_path / "var"
    env = _laptop_env(var_dir)
    # What `make run` does before it starts the Procfile.
    _manage(env, "migrate", "--noinput")
    _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    seeded = _manage(env, "seed_demo")
    assert "responder" in seeded and "crisisdesk-responder" in seeded

    port = _free_port()
    log_path = tmp_path / "honcho.log"
    with log_path.open("wb") as log:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "start", "-f", "Procfile", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", var_dir / "crisisdesk.sqlite3", log_path
    finally:
        _kill_tree(honcho, log_path)


def _open_incident(db_path: Path) -> tuple[int, str] | None:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        row = connection.execute(
            f"SELECT id, title FROM incidents_incident WHERE status IN ({','.join('?' * len(OPEN_STATUSES))})",
            OPEN_STATUSES,
        ).fetchone()
    except sqlite3.OperationalError:  # locked for a moment by the worker: ask again
        return None
    finally:
        connection.close()
    return (row[0], row[1]) if row else None


def _log_tail(log_path: Path, lines: int = 60) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def test_make_run_opens_the_drill_incident_within_90_seconds(laptop_stack) -> None:
    base_url, db_path, log_path = laptop_stack
    started = time.monotonic()
    incident = None
    while time.monotonic() - started < DEADLINE_S:
        incident = _open_incident(db_path)
        if incident:
            break
        time.sleep(2)
    elapsed = time.monotonic() - started
    assert incident, f"no open incident {DEADLINE_S}s after start; last log lines:\n{_log_tail(log_path)}"
    print(f"incident #{incident[0]} {incident[1]!r} opened {elapsed:.0f}s after honcho started")

    # The responder sees it on the dashboard, through the real login form.
    with httpx.Client(base_url=base_url, follow_redirects=True, timeout=15) as client:
        client.get("/login/").raise_for_status()
        response = client.post(
            "/login/",
            data={
                "username": "responder",
                "password": "crisisdesk-responder",
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
        )
        assert response.status_code == 200
        page = client.get("/incidents/")
    assert page.status_code == 200, _log_tail(log_path)
    assert "Acme Air" in page.text
    assert escape(incident[1]) in page.text, f"incident {incident} opened after {elapsed:.0f}s is not listed"
