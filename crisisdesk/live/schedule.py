"""Periodic tasks of the live stream; crisisdesk/celery.py merges ``BEAT`` into the schedule."""

from __future__ import annotations

BEAT: dict[str, dict] = {
    "prune-live-events": {"task": "crisisdesk.live.tasks.prune_live_events", "schedule": 3600.0},
}
