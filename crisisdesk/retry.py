"""Retry policies for Celery tasks, one per task family; every ``@shared_task`` takes one of these.

Tasks are idempotent and the database is the source of truth, so a retry only has to outlast a
passing fault: SQLite's "database is locked" in laptop mode, a PostgreSQL failover or restart.
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

_PASSING_DATABASE_FAULTS = (OperationalError, InterfaceError)

# Ingest, scoring, detection, escalation: the path from a mention to an incident. Retry soon and
# often: a minute's delay here is a minute of crisis unseen (the sweeper catches what still fails).
PIPELINE: dict[str, Any] = {
    "autoretry_for": _PASSING_DATABASE_FAULTS,
    "retry_backoff": 1,
    "retry_backoff_max": 10,
    "retry_jitter": True,
    "max_retries": 6,
    "ignore_result": True,
}

# Notification deliveries: the delivery row carries its own backoff for the receiver's faults;
# this covers only the database under the task.
DELIVERY: dict[str, Any] = {
    "autoretry_for": _PASSING_DATABASE_FAULTS,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
    "ignore_result": True,
}

# Beat's housekeeping (sweepers, heartbeats, escalation timers): the next beat runs it again anyway.
MAINTENANCE: dict[str, Any] = {
    "autoretry_for": _PASSING_DATABASE_FAULTS,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 3,
    "ignore_result": True,
}
