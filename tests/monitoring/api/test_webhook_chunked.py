"""A chunked webhook body (no Content-Length) is read, verified and bounded, through real gunicorn."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from monitoring.api.webhook import request_body
from monitoring.intake.webhook import WebhookRejected
from monitoring.models import Mention
from monitoring.sources.webhook import SIGNATURE_HEADER, sign
from tests.factories import SourceFactory, WatchFactory
from tests.monitoring.api.test_webhook import mention

ROOT = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).with_name("gunicorn")
BODY_LIMIT = 4096


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url_for_another_process(tmp_path: Path) -> str:
    """The test database on PostgreSQL; on SQLite (in this process's memory) a file copy of it."""
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
        return f"postgres://{settings_dict['USER']}{password}@{host}:{port}/{settings_dict['NAME']}"
    path = tmp_path / "served.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    return f"sqlite:///{path}"


def _stored_external_ids(database_url: str) -> list[str]:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as served:
            return [row[0] for row in served.execute("SELECT external_id FROM monitoring_mention ORDER BY 1")]
    return sorted(Mention.objects.values_list("external_id", flat=True))


@pytest.fixture
def served(tmp_path):
    """A webhook source, and gunicorn (one sync worker) serving the project on 127.0.0.1 over
    the same database with ``WEBHOOK_MAX_BODY_BYTES`` = 4096."""
    source = SourceFactory(kind="webhook", watch=WatchFactory(name="Acme Air"))
    database_url = _database_url_for_another_process(tmp_path)
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "crisisdesk.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "WEBHOOK_MAX_BODY_BYTES": str(BODY_LIMIT),
            "CRISISDESK_VAR_DIR": str(tmp_path / "var"),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "gunicorn.log"
                ).read_text()
                time.sleep(0.2)
        yield source, port, database_url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _chunks(raw: bytes, size: int = 200) -> Iterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def _post_chunked(port: int, source, raw: bytes, signature: str) -> tuple[int, dict, dict]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request(
            "POST",
            reverse("crisisdesk:source-webhook", args=[source.pk]),
            body=_chunks(raw),
            headers={
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
                SIGNATURE_HEADER: signature,
            },
            encode_chunked=True,
        )
        response = client.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        client.close()


@pytest.mark.django_db(transaction=True)
def test_a_signed_chunked_body_without_content_length_is_accepted(served):
    source, port, database_url = served
    raw = json.dumps({"mentions": [mention(1), mention(2)]}).encode()
    assert len(raw) > 200  # really sent in more than one chunk

    status, answer, _ = _post_chunked(port, source, raw, sign(source.secret, raw))

    assert (status, answer) == (202, {"accepted": 2, "duplicates": 0, "dropped": 0})
    assert _stored_external_ids(database_url) == ["bw-1", "bw-2"]


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_past_the_limit_is_413_and_a_wrong_signature_401(served):
    source, port, database_url = served
    large = json.dumps({"mentions": [mention(n, text="x" * 500) for n in range(20)]}).encode()
    assert len(large) > BODY_LIMIT

    status, answer, _ = _post_chunked(port, source, large, sign(source.secret, large))
    assert status == 413 and str(BODY_LIMIT) in answer["detail"]

    small = json.dumps({"mentions": [mention(3)]}).encode()
    status, answer, _ = _post_chunked(port, source, small, sign("not-the-secret", small))
    assert status == 401 and answer["code"] == "signature_invalid"
    assert _stored_external_ids(database_url) == []


# --- Reading the body without Content-Length, server by server ------------------------------------


def _without_length(**meta):
    request = RequestFactory().post("/", b"{}", content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request.META.update(meta)
    return request


def test_a_server_that_ends_the_input_with_the_body_is_read_directly():
    wsgi_input = io.BytesIO(b'{"mentions": []}')

    declared, stream = request_body(
        _without_length(**{"wsgi.input": wsgi_input, "wsgi.input_terminated": True})
    )

    assert declared is None and stream is wsgi_input


def test_a_chunked_body_on_a_server_that_cannot_end_it_is_411():
    with pytest.raises(WebhookRejected) as refused:
        request_body(_without_length(HTTP_TRANSFER_ENCODING="chunked"))

    assert refused.value.status == 411 and "Content-Length" in refused.value.message


def test_a_nonsense_content_length_is_400():
    request = RequestFactory().post("/", b"{}", content_type="application/json", CONTENT_LENGTH="lots")

    with pytest.raises(WebhookRejected) as refused:
        request_body(request)

    assert refused.value.status == 400
