"""What the signed webhook remembers between requests, in the cache every web process shares.

Two things, both keyed by source (the credential):

- **Signatures already accepted.** A ``v1`` signature is remembered until its timestamp leaves the
  tolerance window, so the same signed request is answered 409 the second time instead of being
  processed (and counted) again. ``cache.add`` is atomic in both backends we configure (Redis
  ``SET NX``; the database cache's primary key), so of two copies racing, one wins.
- **The per-credential quota** (``WEBHOOK_THROTTLE``, e.g. ``600/min``), counted per clock window
  with the cache's ``incr`` — Redis ``INCR`` in production, ``crisisdesk.cache.DatabaseCache``'s
  locked increment in laptop mode — so two gunicorn workers never both read the same count.

If the cache cannot be reached, both fail open (logged): a sender's mentions matter more than the
abuse limit, and a replay that slips through stores nothing twice (unique external ids).

Before this module the quota lived in each gunicorn process's memory and nothing was remembered:
597 replays of one captured request in 22 s used up the real sender's quota.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import cast

from django.core.cache import BaseCache, cache
from django.db import DatabaseError
from redis.exceptions import RedisError
from rest_framework.settings import api_settings

QUOTA_SCOPE = "webhook_credential"
# What the configured caches raise when their storage is unreachable (Redis; the database table).
CACHE_UNAVAILABLE = (RedisError, DatabaseError)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuotaAnswer:
    """One request counted: whether it is within the quota, and when the window ends (seconds)."""

    allowed: bool
    limit: int | None
    retry_after: int


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"600/min"`` → ``(600, 60)`` (DRF's format: a count, ``/``, a unit starting s, m, h or d);
    ``None`` or empty means no limit. Raises ``ValueError`` for anything else."""
    if not rate:
        return None
    count, _, unit = rate.partition("/")
    if not count.strip().isdigit() or not unit.strip() or unit.strip()[0] not in _PERIODS:
        raise ValueError(f"{rate!r} is not a rate such as 600/min")
    return int(count), _PERIODS[unit.strip()[0]]


def webhook_rate() -> tuple[int, int] | None:
    """``WEBHOOK_THROTTLE`` as (requests, seconds), ``None`` for no limit; read at call time, so a
    settings override applies at once."""
    # The stubs type the rates as numbers; DRF's are strings such as "600/min" (or None: no limit).
    return parse_rate(cast("str | None", api_settings.DEFAULT_THROTTLE_RATES.get(QUOTA_SCOPE)))


def quota_charge(*, source_id: int, now: float, shared: BaseCache = cache) -> QuotaAnswer:
    """Count one correctly signed request of ``source_id`` in the current window and answer.

    A fixed window (``now // period``) keeps the count to one atomic ``incr`` of one key; its key
    expires with the window. At a window's edge a sender can get up to twice the rate through in a
    short stretch, which is acceptable for a limit that exists only against abuse.
    """
    rate = webhook_rate()
    if rate is None:
        return QuotaAnswer(allowed=True, limit=None, retry_after=0)
    limit, period = rate
    window = int(now // period)
    key = f"webhook:quota:{source_id}:{period}:{window}"
    retry_after = max(1, math.ceil((window + 1) * period - now))
    try:
        count = _increment(shared, key, timeout=period + 1)
    except CACHE_UNAVAILABLE as error:
        logger.warning(
            "webhook quota not counted for source %s, the cache is unavailable: %s", source_id, error
        )
        return QuotaAnswer(allowed=True, limit=limit, retry_after=0)
    return QuotaAnswer(allowed=count <= limit, limit=limit, retry_after=retry_after)


def _increment(shared: BaseCache, key: str, *, timeout: int) -> int:
    shared.add(key, 0, timeout=timeout)  # no-op when another request made it first
    try:
        return int(shared.incr(key))
    except ValueError:
        # It expired between the two calls (the window's last instant): start it again.
        shared.add(key, 0, timeout=timeout)
        return int(shared.incr(key))


def signature_claim(
    *, source_id: int, signature: str, remember_seconds: int, shared: BaseCache = cache
) -> bool:
    """Remember ``signature`` for ``remember_seconds``; ``False`` if it is already remembered (a replay).
    ``True`` when the cache is unreachable: the request is processed, idempotently."""
    try:
        return bool(shared.add(_seen_key(source_id, signature), 1, timeout=max(1, remember_seconds)))
    except CACHE_UNAVAILABLE as error:
        logger.warning(
            "webhook signature not remembered for source %s, the cache is unavailable: %s", source_id, error
        )
        return True


def signature_release(*, source_id: int, signature: str, shared: BaseCache = cache) -> None:
    """Forget ``signature``: its request was not accepted, so sending it again is a retry, not a replay."""
    try:
        shared.delete(_seen_key(source_id, signature))
    except CACHE_UNAVAILABLE as error:
        logger.warning(
            "webhook signature not forgotten for source %s, the cache is unavailable: %s", source_id, error
        )


def _seen_key(source_id: int, signature: str) -> str:
    return f"webhook:seen:{source_id}:{signature}"
