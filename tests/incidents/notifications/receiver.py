"""A real HTTP receiver on 127.0.0.1 for notification tests: scripted answers, recorded requests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from incidents.models import NotificationChannel


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each request with the next scripted ``(status, headers, body)``; 200 once the script runs out."""

    server: ThreadingHTTPServer
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook/secret-path"

    def answer(self, *responses: tuple[int, dict[str, str], str] | int) -> None:
        for response in responses:
            self.script.append((response, {}, "") if isinstance(response, int) else response)


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Recorded("POST", self.path, dict(self.headers.items()), body))
            status, headers, text = receiver.script.pop(0) if receiver.script else (200, {}, "ok")
            payload = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server=server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def make_channel(
    *,
    name: str = "Crisis room",
    kind: str = "webhook",
    url: str = "",
    addresses: list[str] | None = None,
    min_severity: int = 4,
    tier: int = 1,
    watches: list[Any] | None = None,
    is_active: bool = True,
    escalate_after_minutes: int | None = None,
) -> NotificationChannel:
    config: dict[str, Any] = {"addresses": addresses} if kind == "email" else {"url": url}
    if escalate_after_minutes is not None:
        config["escalate_after_minutes"] = escalate_after_minutes
    channel = NotificationChannel.objects.create(
        name=name, kind=kind, config=config, min_severity=min_severity, tier=tier, is_active=is_active
    )
    if watches:
        channel.watches.set(watches)
    return channel
