"""A real HTTP server on 127.0.0.1 that answers with scripted (recorded) responses.

Connectors are tested against it instead of mocks: the request really goes through httpx, TLS
aside. Script replies per method+path; each request takes the next reply and the last one repeats.
Every request is recorded (method, path, query, headers, body) so tests can check what was asked.

    server.route("GET", "/api/v1/timelines/tag/acme", Reply.fixture("mastodon/tag_acme.json"))
    server.route("GET", "/search", Reply(429, "slow down", headers={"Retry-After": "120"}))

The ``recorded_server`` fixture in ``tests/conftest.py`` starts one per test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "fixtures" / "recorded"

_CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Reply:
    """One scripted response. ``body`` may be bytes, text, or a dict/list sent as JSON."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data), headers or {}, "application/json; charset=utf-8")

    @classmethod
    def fixture(cls, name: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """A recorded body from ``tests/fixtures/recorded/<name>``; content type from its extension."""
        path = RECORDED / name
        return cls(
            status,
            path.read_bytes(),
            headers or {},
            _CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        )

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), self.content_type or "application/json; charset=utf-8"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


Responder = Reply | Callable[[RecordedRequest], Reply]


class RecordedServer:
    """Serve scripted replies on 127.0.0.1 (a free port) from a daemon thread."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: dict[tuple[str, str], list[Responder]] = {}
        self._served: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="recorded-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, *replies: Responder) -> None:
        """Script ``replies`` for ``method path`` (replacing earlier ones); the last one repeats."""
        if not replies:
            raise ValueError("route() needs at least one reply")
        with self._lock:
            self._routes[(method.upper(), path)] = list(replies)
            self._served[(method.upper(), path)] = 0

    def requests_to(self, path: str, method: str = "GET") -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and r.method == method.upper()]

    def start(self) -> RecordedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RecordedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        key = (request.method, request.path)
        with self._lock:
            self.requests.append(request)
            replies = self._routes.get(key)
            if not replies:
                return Reply(404, f"no recorded response for {request.method} {request.path}")
            index = min(self._served[key], len(replies) - 1)
            self._served[key] += 1
        reply = replies[index]
        return reply(request) if callable(reply) else reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = server._next_reply(request)
                body, content_type = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
