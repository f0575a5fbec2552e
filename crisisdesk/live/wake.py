"""Wake waiting streams at once when an event commits (PostgreSQL LISTEN/NOTIFY).

A statement trigger on the outbox (migration ``crisisdesk.0005``) sends ``NOTIFY crisisdesk_live``
in the inserting transaction, which PostgreSQL delivers only when it commits. Each web process
keeps one listening connection in a daemon thread and wakes every stream waiting in that process;
the stream then reads the outbox as usual. Without PostgreSQL (laptop mode on SQLite), or while the
listener is reconnecting, streams simply wait their poll interval: the outbox read, not the
notification, is what delivers events, so a lost notification only delays, never loses, one.
"""

from __future__ import annotations

import asyncio
import logging
import select
import threading
from typing import Any

import psycopg2
from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

CHANNEL = "crisisdesk_live"
RECONNECT_SECONDS = 5.0


class Waker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.notifications = 0  # how many wake-ups this process has received (for tests and logs)

    def _params(self) -> dict[str, Any] | None:
        connection = connections["default"]
        if connection.vendor != "postgresql":
            return None
        return dict(connection.get_connection_params())

    def start(self, *, force: bool = False) -> bool:
        """Start the listener of this process once; False where there is nothing to listen to, or
        when ``settings.LIVE_LISTEN`` is off (the test suite: a listener's connection would keep its
        database from being dropped) unless ``force``."""
        if not force and not getattr(settings, "LIVE_LISTEN", True):
            return False
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return True
            params = self._params()
            if params is None:
                return False
            self._thread = threading.Thread(
                target=self._listen, args=(params,), name="live-listener", daemon=True
            )
            self._thread.start()
            return True

    def stop(self) -> None:
        """Stop listening and close the connection (within a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self, params: dict[str, Any]) -> None:
        # The listener's own connection, outside Django's (it stays open for the life of the process).
        while not self._stop.is_set():
            try:
                conn = psycopg2.connect(**params)
            except psycopg2.Error:  # the database is restarting: listen again soon
                log.warning("live listener could not connect; retrying", exc_info=True)
                self._stop.wait(RECONNECT_SECONDS)
                continue
            try:
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                while not self._stop.is_set():
                    if select.select([conn], [], [], 1.0) == ([], [], []):
                        continue
                    conn.poll()
                    if conn.notifies:
                        conn.notifies.clear()
                        self.notifications += 1
                        self.wake_all()
            except psycopg2.Error:  # a dropped connection: listen again soon
                log.warning("live listener lost its connection; reconnecting", exc_info=True)
                self._stop.wait(RECONNECT_SECONDS)
            finally:
                conn.close()

    def wake_all(self) -> None:
        with self._lock:
            waiting = list(self._waiting)
        for loop, event in waiting:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> None:
        """Return at the next notification in this process, or after ``timeout`` seconds."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiting.add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiting.discard(entry)


waker = Waker()
