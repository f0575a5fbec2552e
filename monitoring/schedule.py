"""Periodic tasks of the monitoring app; crisisdesk/celery.py merges ``BEAT`` into the schedule."""

from __future__ import annotations

BEAT: dict[str, dict] = {
    # Pull sources whose turn has come (each poll claims a lease, so overlap is harmless).
    "poll-due-sources": {"task": "monitoring.tasks.poll_due_sources", "schedule": 10.0},
    # A feed that went quiet must show as a health problem, not as a calm day.
    "check-source-heartbeats": {"task": "monitoring.tasks.check_source_heartbeats", "schedule": 60.0},
    # Lost-message safety net: new mentions, unprocessed signals, overdue sources, fresh buckets.
    "sweep": {"task": "monitoring.tasks.sweep", "schedule": 30.0},
}
