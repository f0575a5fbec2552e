"""Overlap: prepare the next chunk in a helper thread while this thread stores the current one.

Ingest (and the rescoring stage) spend their Python time normalising and scoring, and their
database time storing. ``overlapped`` runs the pure-Python work of chunk k+1 in a helper thread
while the caller writes chunk k. psycopg2 and sqlite3 release the GIL while the database works, so
the two use both cores. Only the caller's thread touches the database, so every write stays in one
transaction; if the work or a write fails, the whole batch rolls back.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import pairwise
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
# Mentions per overlapped chunk: big enough that each write's round trip and the thread hand-over
# are small against its work, small enough that a 500–1000 batch gives the two threads work to share.
OVERLAP_CHUNK = 250
SWITCH_INTERVAL = 0.0005  # seconds; see ``overlapped``
MIN_CHUNK = 50


def chunked(values: list[T]) -> list[list[T]]:
    """Split ``values`` for ``overlapped``: a small first chunk and a small last chunk, the rest
    in chunks of at most OVERLAP_CHUNK.

    Nothing overlaps the first chunk's preparation (the writer waits for it) nor the last chunk's
    write (the helper has nothing left): keeping those two small keeps both threads busy longer.
    """
    n = len(values)
    if n <= 2 * MIN_CHUNK:
        return [values] if values else []
    middle = n - 2 * MIN_CHUNK
    parts = -(-middle // OVERLAP_CHUNK)
    size = -(-middle // parts)
    bounds = [0, MIN_CHUNK, *range(MIN_CHUNK + size, n - MIN_CHUNK, size), n - MIN_CHUNK, n]
    return [values[start:end] for start, end in pairwise(bounds) if end > start]


def overlapped(chunks: list[T], work: Callable[[T], R]) -> Iterator[tuple[T, R]]:
    """Yield ``(chunk, work(chunk))`` in order, running ``work`` on the next chunk in a helper thread
    while the caller stores this one.

    ``work`` must not touch the database: only the caller's thread does, so every write stays in
    the caller's transaction. Leaving early (an exception in the caller) waits for a chunk still in
    the helper thread, so nothing outlives the transaction it belongs to.
    """
    if len(chunks) <= 1:
        for chunk in chunks:
            yield chunk, work(chunk)
        return
    with _short_switch_interval(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring") as pool:
        pending = pool.submit(work, chunks[0])
        for k, chunk in enumerate(chunks):
            result = pending.result()
            if k + 1 < len(chunks):
                pending = pool.submit(work, chunks[k + 1])
            yield chunk, result


_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


@contextmanager
def _short_switch_interval() -> Iterator[None]:
    """Lower the interpreter's thread switch interval while any ``overlapped`` runs.

    The caller's thread wakes from each database call needing the GIL while the helper computes;
    at the default 5 ms switch interval it would wait most of a chunk's time for its turn. The
    interval is process-wide and gunicorn's threads may ingest at once (webhooks, imports): the
    first one in saves it, the last one out restores it.
    """
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, SWITCH_INTERVAL))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)
