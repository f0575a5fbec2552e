"""The Bluesky Jetstream consumer: one long-running process for every bluesky source.

The bluesky connector (``monitoring.sources.bluesky``) is not polled: this consumer is how its
sources receive posts (``manage.py consume_jetstream``). It reads
``app.bsky.feed.post`` commits from Jetstream's websocket, asks ``BlueskyConnector`` which
sources each new post matches, and stores matches in small batches through ``ingest_items``. Its
position is Jetstream's ``time_us``, saved on every active bluesky source only *after* the batch
before it is stored, so a crash or restart resumes from the saved cursor and loses nothing: each
connection asks for ``CURSOR_REWIND_US`` before it, because events arrive a little out of
``time_us`` order, and ingest is idempotent, so a replayed post is never stored twice. Dropped
connections reconnect with exponential backoff and jitter; the sources' health shows whether the
stream is flowing.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from crisisdesk.audit.services import audit_record
from monitoring.intake.ingest import ingest_items
from monitoring.models import Source, SourceHealth, SourceKind
from monitoring.sources.base import Item
from monitoring.sources.bluesky import POST_COLLECTION, BlueskyConnector, TermMatcher
from monitoring.sources.http import USER_AGENT

logger = logging.getLogger(__name__)

DEFAULT_JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"

# Jetstream does not send events in ``time_us`` order. In the production sample the issue reports,
# 77 of 152 frames arrived with a ``time_us`` below the highest already seen, by up to 33 ms; the
# recorded corpus tests/fixtures/recorded/jetstream/frames_late.jsonl (152 frames, each delivered
# 0-33 ms after its time_us) measures 89 late frames, at most 29,723 us late (``max_lateness_us``).
# A resume at exactly the highest ``time_us`` seen skips the events still in flight below it, so
# every (re)connect asks for ``CURSOR_REWIND_US`` earlier: 5 s, ~150x the 33 ms seen, so a relay
# far later than the sample under backlog still loses nothing. The price is a few seconds of posts
# replayed per reconnect, which ingest stores once (unique (source, external_id)).
CURSOR_REWIND_US = 5_000_000


def jetstream_url() -> str:
    """The configured Jetstream endpoint (``settings.JETSTREAM_URL``), else Bluesky's public one."""
    return getattr(settings, "JETSTREAM_URL", "") or DEFAULT_JETSTREAM_URL


def subscribe_url(base: str, cursor: int | None) -> str:
    """``base`` with ``wantedCollections=app.bsky.feed.post`` and, when resuming, ``cursor=<time_us>``."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("wantedCollections", "cursor")]
    query.append(("wantedCollections", POST_COLLECTION))
    if cursor:
        query.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(query), ""))


def resume_cursor(saved_time_us: int | None) -> int | None:
    """The cursor to reconnect with after handling events up to ``saved_time_us``: rewound by
    ``CURSOR_REWIND_US`` so late events are replayed, not skipped; None (live tail) without one."""
    if not saved_time_us:
        return None
    return max(1, saved_time_us - CURSOR_REWIND_US)


def max_lateness_us(times_us: Iterable[int]) -> int:
    """How far below the highest ``time_us`` already seen any event arrived (0 when in order):
    the figure ``CURSOR_REWIND_US`` must exceed."""
    highest: int | None = None
    lateness = 0
    for time_us in times_us:
        if highest is None or time_us > highest:
            highest = time_us
        else:
            lateness = max(lateness, highest - time_us)
    return lateness


@dataclass
class ConsumerStats:
    """What a run did; printed by the management command."""

    connections: int = 0
    events: int = 0
    posts: int = 0
    matched: int = 0
    created: int = 0
    duplicates: int = 0
    malformed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Target:
    source: Source
    matcher: TermMatcher


class JetstreamConsumer:
    """Consume Jetstream until ``stop()`` or ``run(stop_after=…)``'s time is up.

    Knobs are constructor arguments so tests can make them small: ``batch_size`` items or
    ``flush_seconds`` since the first buffered item trigger a flush; the cursor is saved at every
    flush and at least every ``cursor_seconds``; sources are reloaded every ``reload_seconds``.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        batch_size: int = 50,
        flush_seconds: float = 1.0,
        cursor_seconds: float = 5.0,
        reload_seconds: float = 30.0,
        initial_backoff: float = 1.0,
        max_backoff: float = 60.0,
        open_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url or jetstream_url()
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.cursor_seconds = cursor_seconds
        self.reload_seconds = reload_seconds
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.clock = clock
        self.sleep = sleep
        self.connector = BlueskyConnector()
        self.stats = ConsumerStats()
        self._stopping = False
        self._targets: list[_Target] = []
        self._loaded_at = float("-inf")
        self._buffer: dict[int, list[Item]] = {}
        self._buffered_since: float | None = None
        self._position: int | None = None  # time_us of the last event handled
        self._saved: int | None = None  # time_us last written to the sources
        self._saved_at = float("-inf")

    # --- control ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to flush, save its cursor and return (safe from a signal handler)."""
        self._stopping = True

    def run(self, *, stop_after: float | None = None) -> ConsumerStats:
        """Consume until stopped (or for ``stop_after`` seconds); reconnect with backoff on failure."""
        deadline = None if stop_after is None else self.clock() + stop_after
        backoff = self.initial_backoff
        while not self._done(deadline):
            self._reload(force=True)
            if not self._targets:
                logger.info("no active bluesky sources; checking again in %.0fs", self.reload_seconds)
                self._pause(self.reload_seconds, deadline)
                continue
            url = subscribe_url(self.url, resume_cursor(self._resume_cursor()))
            try:
                with connect(
                    url,
                    open_timeout=self.open_timeout,
                    user_agent_header=USER_AGENT,
                    compression=None,
                    # Room for a burst while a batch is being stored; beyond it TCP pushes back.
                    max_queue=1024,
                ) as websocket:
                    self.stats.connections += 1
                    logger.info("connected to %s", url)
                    self._mark_health(SourceHealth.OK)
                    backoff = self.initial_backoff
                    self._read(websocket, deadline)
            except InvalidURI:
                raise
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError, DatabaseError) as exc:
                message = f"Jetstream {urlsplit(self.url).netloc}: {type(exc).__name__}: {exc}"
                logger.warning("%s; reconnecting in %.1fs", message, backoff)
                self.stats.errors.append(message)
                self._store_or_discard(exc)
                self._mark_health(SourceHealth.DEGRADED, reason=message)
                self._pause(backoff * random.uniform(0.8, 1.2), deadline)
                backoff = min(backoff * 2, self.max_backoff)
        self._flush()
        return self.stats

    def _done(self, deadline: float | None) -> bool:
        return self._stopping or (deadline is not None and self.clock() >= deadline)

    def _pause(self, seconds: float, deadline: float | None) -> None:
        end = self.clock() + seconds
        if deadline is not None:
            end = min(end, deadline)
        while not self._stopping and self.clock() < end:
            self.sleep(min(0.2, max(0.0, end - self.clock())))

    # --- reading ------------------------------------------------------------------------------

    def _read(self, websocket: Any, deadline: float | None) -> None:
        while not self._done(deadline):
            try:
                frame = websocket.recv(timeout=self._wait(deadline))
            except TimeoutError:
                frame = None
            if frame is not None:
                self._handle(frame)
            if self._buffered_since is not None and (
                self._buffered_count() >= self.batch_size
                or self.clock() - self._buffered_since >= self.flush_seconds
            ):
                self._flush()
            if self.clock() - self._saved_at >= self.cursor_seconds:
                self._flush()
            if self.clock() - self._loaded_at >= self.reload_seconds:
                self._flush()
                self._reload()
        self._flush()

    def _wait(self, deadline: float | None) -> float:
        wait = min(self.flush_seconds, self.cursor_seconds, 1.0)
        if deadline is not None:
            wait = min(wait, max(0.0, deadline - self.clock()))
        return max(wait, 0.01)

    def _handle(self, frame: str | bytes) -> None:
        self.stats.events += 1
        try:
            event = json.loads(frame)
            time_us = int(event["time_us"])
        except (ValueError, TypeError, KeyError):
            self.stats.malformed += 1
            logger.warning("skipped a malformed Jetstream frame: %.200r", frame)
            return
        try:
            post = self.connector.read_post(event)
        except (KeyError, TypeError, ValueError) as exc:
            self.stats.malformed += 1
            logger.warning("skipped a malformed post %.200r: %s", frame, exc)
            post = None
        if post is not None:
            self.stats.posts += 1
            for target in self._targets:
                try:
                    item = self.connector.item_for_post(post, target.matcher)
                except (KeyError, TypeError, ValueError) as exc:
                    self.stats.malformed += 1
                    logger.warning("skipped a malformed post %.200r: %s", frame, exc)
                    break
                if item is not None:
                    self.stats.matched += 1
                    self._buffer.setdefault(target.source.pk, []).append(item)
                    if self._buffered_since is None:
                        self._buffered_since = self.clock()
        if self._position is None or time_us > self._position:
            self._position = time_us

    def _buffered_count(self) -> int:
        return sum(len(items) for items in self._buffer.values())

    # --- storing --------------------------------------------------------------------------------

    def _flush(self) -> None:
        """Store buffered matches, then save the position reached (never the other way round)."""
        if self._buffer:
            by_id = {t.source.pk: t.source for t in self._targets}
            for source_id, items in list(self._buffer.items()):
                source = by_id.get(source_id) or Source.objects.select_related("watch").get(pk=source_id)
                result = ingest_items(source=source, items=items)
                self.stats.created += result.created
                self.stats.duplicates += result.duplicates
                del self._buffer[source_id]
            self._buffered_since = None
        if self._position is not None and self._position != self._saved:
            self._save_cursor(self._position)
        elif self._targets and self.clock() - self._saved_at >= self.cursor_seconds:
            self._heartbeat()

    def _store_or_discard(self, exc: BaseException) -> None:
        """After a dropped connection, store what was read; after a database error, forget it."""
        if not isinstance(exc, DatabaseError):
            try:
                self._flush()
                return
            except DatabaseError:
                logger.exception("could not store the buffered Jetstream matches; they will be replayed")
        self._discard_unsaved()

    def _discard_unsaved(self) -> None:
        """After a failure, forget what was not stored: the saved cursor replays it on reconnect."""
        self._buffer.clear()
        self._buffered_since = None
        self._position = self._saved

    def _save_cursor(self, time_us: int) -> None:
        now = timezone.now()
        with transaction.atomic():
            Source.objects.filter(kind=SourceKind.BLUESKY, is_active=True).update(
                cursor={"time_us": time_us}, last_polled_at=now, last_success_at=now
            )
        self._saved = time_us
        self._saved_at = self.clock()

    def _heartbeat(self) -> None:
        """Connected but nothing new: still a sign of life, so a quiet stream never looks dead."""
        now = timezone.now()
        Source.objects.filter(kind=SourceKind.BLUESKY, is_active=True).update(
            last_polled_at=now, last_success_at=now
        )
        self._saved_at = self.clock()

    def _resume_cursor(self) -> int | None:
        """The position to resume after (``resume_cursor`` rewinds it): our own, else the oldest
        cursor saved on an active source."""
        if self._saved is not None:
            return self._saved
        cursors = [
            int(t.source.cursor["time_us"])
            for t in self._targets
            if isinstance(t.source.cursor, dict) and str(t.source.cursor.get("time_us", "")).isdigit()
        ]
        if cursors:
            self._saved = self._position = min(cursors)
        return self._saved

    def _reload(self, *, force: bool = False) -> None:
        if not force and self.clock() - self._loaded_at < self.reload_seconds:
            return
        sources = Source.objects.filter(
            kind=SourceKind.BLUESKY, is_active=True, watch__is_active=True
        ).select_related("watch")
        self._targets = [_Target(source=s, matcher=self.connector.matcher(s)) for s in sources]
        self._loaded_at = self.clock()

    def _mark_health(self, health: str, *, reason: str = "") -> None:
        """Set every active bluesky source's health, auditing each flip (the system is the actor).

        A database outage while doing so is logged, not raised: the loop's reconnect handles it.
        """
        try:
            self._write_health(health, reason=reason)
        except DatabaseError:
            logger.exception("could not record the bluesky sources' health (%s)", health)

    def _write_health(self, health: str, *, reason: str) -> None:
        now = timezone.now()
        with transaction.atomic():
            sources = list(Source.objects.select_for_update().filter(kind=SourceKind.BLUESKY, is_active=True))
            for source in sources:
                if source.health != health:
                    audit_record(
                        actor=None,
                        action="source.health",
                        target=source,
                        before={"health": source.health},
                        after={"health": health, "reason": reason[:500]},
                    )
            changes: dict[str, Any] = {"health": health, "last_polled_at": now}
            if health == SourceHealth.OK:
                changes.update(last_error="", consecutive_failures=0, last_success_at=now)
                Source.objects.filter(pk__in=[s.pk for s in sources]).update(**changes)
            else:
                for source in sources:
                    Source.objects.filter(pk=source.pk).update(
                        **changes,
                        last_error=reason[:2000],
                        last_error_at=now,
                        consecutive_failures=source.consecutive_failures + 1,
                    )
