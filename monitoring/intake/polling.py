"""Polling pull sources, and the heartbeats that make a dead source visible.

A poll claims its source with a conditional UPDATE on ``lease_until`` so two workers never poll the
same source at once; the fetch runs outside any transaction (it is network I/O); the items and the
new cursor are stored in one transaction, so a poll that fails halfway loses and duplicates
nothing: the cursor still points before the items, and ingest is idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crisisdesk.audit.services import audit_record
from monitoring.intake.ingest import IngestResult, ingest_items
from monitoring.models import Source, SourceHealth
from monitoring.sources import CONNECTORS, get_connector
from monitoring.sources.base import SourceError

logger = logging.getLogger(__name__)

# How long a claimed source stays claimed; far longer than any connector's timeouts.
LEASE = timedelta(minutes=5)
# Temporary errors back off exponentially from the poll interval up to this ceiling.
MAX_BACKOFF = timedelta(hours=1)
# A server's Retry-After is honoured, but never beyond a day.
MAX_RETRY_AFTER = timedelta(days=1)
# A permanent error means someone must fix the config; still look again now and then.
PERMANENT_RETRY = timedelta(hours=6)


@dataclass
class PollOutcome:
    """What one ``poll_source`` call did. ``status``: ok, skipped, temporary, permanent, lease_lost."""

    source_id: int
    status: str
    created: int = 0
    duplicates: int = 0
    dropped: int = 0
    error: str = ""
    next_poll_at: datetime | None = None


@lru_cache(maxsize=1)
def pull_kinds() -> frozenset[str]:
    """Source kinds that are polled; a kind whose connector is not installed is never due."""
    kinds = set()
    for kind in CONNECTORS:
        try:
            connector = get_connector(kind)
        except (ImportError, AttributeError):
            continue
        if connector.pull:
            kinds.add(kind)
    return frozenset(kinds)


def _lease_free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def due_source_ids(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Active pull sources on active watches whose turn has come and whose lease is free."""
    now = now or timezone.now()
    return list(
        Source.objects.filter(
            is_active=True, watch__is_active=True, kind__in=pull_kinds(), next_poll_at__lte=now
        )
        .filter(_lease_free(now))
        .order_by("next_poll_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _claim(source_id: int, now: datetime) -> datetime | None:
    """Claim the source until ``now + LEASE``; None when it is not due or someone else holds it."""
    lease = now + LEASE
    claimed = (
        Source.objects.filter(pk=source_id, is_active=True, next_poll_at__lte=now)
        .filter(_lease_free(now))
        .update(lease_until=lease)
    )
    return lease if claimed else None


def _flip_health(source: Source, new_health: str, *, reason: str = "") -> None:
    """Audit a health change (actor None: the system noticed). Call inside the transaction."""
    if source.health == new_health:
        return
    audit_record(
        actor=None,
        action="source.health",
        target=source,
        before={"health": source.health},
        after={"health": new_health, "reason": reason[:500]},
    )


def _backoff(source: Source, failures: int, retry_after: float | None) -> timedelta:
    base = timedelta(seconds=max(source.poll_interval, 30))
    delay: timedelta = min(base * (2 ** max(failures - 1, 0)), MAX_BACKOFF)
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return delay


def _record_failure(source_id: int, lease: datetime, error: Exception, now: datetime) -> PollOutcome:
    permanent = isinstance(error, SourceError) and error.permanent
    retry_after = error.retry_after if isinstance(error, SourceError) else None
    message = str(error) or error.__class__.__name__
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source_id)
        if source.lease_until != lease:
            return PollOutcome(source_id=source_id, status="lease_lost", error=message)
        failures = source.consecutive_failures + 1
        if permanent:
            health, next_poll_at = SourceHealth.FAILING, now + PERMANENT_RETRY
        else:
            health, next_poll_at = SourceHealth.DEGRADED, now + _backoff(source, failures, retry_after)
        _flip_health(source, health, reason=message)
        Source.objects.filter(pk=source_id).update(
            health=health,
            last_error=message[:2000],
            last_error_at=now,
            last_polled_at=now,
            consecutive_failures=failures,
            next_poll_at=next_poll_at,
            lease_until=None,
        )
    return PollOutcome(
        source_id=source_id,
        status="permanent" if permanent else "temporary",
        error=message,
        next_poll_at=next_poll_at,
    )


def poll_source(*, source_id: int, now: datetime | None = None) -> PollOutcome:
    """Poll one pull source once: claim, fetch, store items and cursor together, release.

    Idempotent: a second call while the source is leased (or before it is due again) does nothing
    and answers ``status="skipped"``.
    """
    now = now or timezone.now()
    lease = _claim(source_id, now)
    if lease is None:
        return PollOutcome(source_id=source_id, status="skipped")
    source = Source.objects.select_related("watch").get(pk=source_id)
    try:
        connector = get_connector(source.kind)
        if not connector.pull:
            raise ValueError(f"{source.kind} is a push source; it is never polled")
        items, next_cursor = connector.fetch(source, dict(source.cursor or {}))
    except SourceError as error:
        return _record_failure(source_id, lease, error, now)
    except Exception as error:
        # A connector bug must not stop the poll loop: count it as temporary, keep the cursor.
        logger.exception("polling source %s failed unexpectedly", source_id)
        return _record_failure(source_id, lease, error, now)

    try:
        with transaction.atomic():
            result: IngestResult = ingest_items(source=source, items=items)
            locked = Source.objects.select_for_update().get(pk=source_id)
            if locked.lease_until != lease:
                # Someone else took the source over after our lease ran out: let them own it.
                transaction.set_rollback(True)
                return PollOutcome(source_id=source_id, status="lease_lost")
            next_poll_at = now + timedelta(seconds=locked.poll_interval)
            _flip_health(locked, SourceHealth.OK)
            Source.objects.filter(pk=source_id).update(
                cursor=next_cursor,
                health=SourceHealth.OK,
                last_error="",
                last_polled_at=now,
                last_success_at=now,
                consecutive_failures=0,
                next_poll_at=next_poll_at,
                lease_until=None,
            )
    except Exception as error:
        logger.exception("storing the poll of source %s failed; cursor kept", source_id)
        return _record_failure(source_id, lease, error, now)
    return PollOutcome(
        source_id=source_id,
        status="ok",
        created=result.created,
        duplicates=result.duplicates,
        dropped=result.dropped,
        next_poll_at=next_poll_at,
    )


def record_push(*, source: Source, now: datetime | None = None) -> None:
    """A push source (webhook, import) delivered: it is alive. Recovers a silent/unknown source."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Source.objects.select_for_update().get(pk=source.pk)
        if locked.health != SourceHealth.OK:
            _flip_health(locked, SourceHealth.OK, reason="delivery received")
        Source.objects.filter(pk=source.pk).update(
            health=SourceHealth.OK, last_success_at=now, consecutive_failures=0
        )
    source.health, source.last_success_at = SourceHealth.OK, now


def _silent_since(source: Source, now: datetime) -> bool:
    if source.kind in pull_kinds():
        last_alive = source.last_success_at or source.created_at
        return last_alive < now - source.heartbeat_deadline
    try:
        minutes = float((source.config or {}).get("expected_interval_minutes") or 0)
    except (TypeError, ValueError):
        minutes = 0
    if minutes <= 0:
        return False  # a push source without an expected rhythm cannot be late
    last_alive = source.last_mention_at or source.created_at
    return last_alive < now - timedelta(minutes=minutes)


def check_heartbeats(*, now: datetime | None = None) -> list[int]:
    """Mark sources silent that stopped delivering; return the ids that just became silent.

    Pull sources: no successful poll within ``source.heartbeat_deadline``. Push sources: no
    mention within ``config["expected_interval_minutes"]`` (when set). Failing sources keep their
    more specific health. A silent source recovers on its next success.
    """
    now = now or timezone.now()
    candidates = Source.objects.filter(
        is_active=True,
        watch__is_active=True,
        health__in=[SourceHealth.UNKNOWN, SourceHealth.OK, SourceHealth.DEGRADED],
    )
    silenced: list[int] = []
    for source in candidates.select_related("watch"):
        if not _silent_since(source, now):
            continue
        with transaction.atomic():
            flipped = Source.objects.filter(pk=source.pk, health=source.health).update(
                health=SourceHealth.SILENT
            )
            if flipped:
                _flip_health(source, SourceHealth.SILENT, reason="no delivery within its expected interval")
                silenced.append(source.pk)
    return silenced
