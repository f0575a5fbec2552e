"""Server-sent events from the outbox: one loop, served as a plain iterator under WSGI (tests,
threads) and as an async iterator under ASGI (production's uvicorn workers), where a waiting
stream costs no thread.

The loop reads the outbox by (topic, id) when woken — at once by PostgreSQL's NOTIFY of a committed
event (``crisisdesk.live.wake``), else every ``poll`` seconds. The outbox is the fan-out across
processes and machines — every web process reads the same table — and it is what makes a resumed
stream exact: events written while a page was away are still there for its ``Last-Event-ID``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from crisisdesk.live.selectors import live_events_after
from crisisdesk.live.services import live_beat
from crisisdesk.live.wake import waker
from crisisdesk.models import LiveEvent
from crisisdesk.types import Member

RETRY_MS = 3000  # how soon the browser reconnects after the stream ends or breaks


@dataclass
class StreamTimes:
    poll: float = 1.0  # seconds between outbox reads: changes arrive within about this
    heartbeat: float = 15.0  # a comment line keeps proxies from closing an idle stream
    beat: float = 10.0  # presence beats while the page is open
    lifetime: float = 300.0  # then the stream ends and the browser resumes from its last id
    presence_stale: timedelta = field(default=timedelta(seconds=30))


def frame(event: LiveEvent) -> str:
    """One SSE message: ``id`` (for ``Last-Event-ID``), the event kind and its JSON data."""
    data = json.dumps({"kind": event.kind, "topic": event.topic, **event.data}, ensure_ascii=False)
    return f"id: {event.pk}\nevent: change\ndata: {data}\n\n"


class StreamEnded(Exception):
    """The stream can't go on (its member is gone, the database is away): end it. The browser
    reconnects in ``RETRY_MS`` and resumes from its last event id; meanwhile the page polls."""


@dataclass
class _Cursor:
    topics: list[str]
    after: int
    member: Member
    here: str | None
    times: StreamTimes
    clock: Callable[[], float]
    next_beat: float = 0.0
    next_heartbeat: float = 0.0

    def step(self) -> list[str]:
        """One turn of the loop: beat presence when due, then the new events (or a heartbeat)."""
        now = self.clock()
        if self.here is not None and now >= self.next_beat:
            try:
                live_beat(
                    topic=self.here,
                    member=self.member,
                    at=timezone.now(),
                    stale_after=self.times.presence_stale,
                )
            except IntegrityError as exc:  # the member was removed while the page was open
                raise StreamEnded from exc
            self.next_beat = now + self.times.beat
        try:
            events = live_events_after(topics=self.topics, after=self.after)
        except DatabaseError as exc:
            raise StreamEnded from exc
        if events:
            self.after = events[-1].pk
            self.next_heartbeat = now + self.times.heartbeat
            return [frame(event) for event in events]
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + self.times.heartbeat
            return [": keep-alive\n\n"]
        return []


def stream_sync(
    *,
    topics: list[str],
    after: int,
    member: Member,
    here: str | None,
    times: StreamTimes,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    cursor = _Cursor(topics, after, member, here, times, clock)
    yield f"retry: {RETRY_MS}\n\n"
    deadline = clock() + times.lifetime
    while clock() < deadline:
        try:
            frames = cursor.step()
        except StreamEnded:
            return
        yield from frames
        if not frames or frames[0].startswith(":"):
            sleep(times.poll)


async def stream_async(
    *, topics: list[str], after: int, member: Member, here: str | None, times: StreamTimes
) -> AsyncIterator[str]:
    cursor = _Cursor(topics, after, member, here, times, time.monotonic)
    step = sync_to_async(cursor.step)
    await sync_to_async(waker.start)()
    yield f"retry: {RETRY_MS}\n\n"
    deadline = time.monotonic() + times.lifetime
    while time.monotonic() < deadline:
        try:
            frames = await step()
        except StreamEnded:
            return
        for chunk in frames:
            yield chunk
        if not frames or frames[0].startswith(":"):
            # Woken at once by a committed event on PostgreSQL; otherwise the poll interval.
            await waker.wait(times.poll)
