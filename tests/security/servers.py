"""Tiny HTTP servers on loopback addresses for the outbound guard's tests.

``tests/recorded_server.py`` always binds 127.0.0.1; these tests also need a second loopback
address (127.0.0.2, which Linux routes to lo like all of 127/8) to play a "public" host beside a
"private" one, sometimes on the same port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (status, headers, body) — or a callable that writes the answer itself (slow drips).
Answer = tuple[int, dict[str, str], bytes]
Script = Callable[[BaseHTTPRequestHandler], Answer | None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class LoopbackServer:
    httpd: ThreadingHTTPServer
    script: Script
    requests: list[Seen] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.httpd.server_address[0]

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(
    script: Script | Answer = (200, {}, b"ok"), *, host: str = "127.0.0.1", port: int = 0
) -> LoopbackServer:
    """Start a server on ``host:port`` answering every GET/POST with ``script``."""
    server: LoopbackServer
    answer_with: Script = script if callable(script) else (lambda _handler: script)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            server.requests.append(Seen(self.path, dict(self.headers.items())))
            answer = answer_with(self)
            if answer is None:  # the script wrote the answer itself
                return
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    server = LoopbackServer(httpd=httpd, script=answer_with)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server
