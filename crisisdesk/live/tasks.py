"""Housekeeping of the live stream's outbox."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from crisisdesk.live.services import PRUNE_AFTER, live_prune
from crisisdesk.retry import MAINTENANCE


@shared_task(name="crisisdesk.live.tasks.prune_live_events", **MAINTENANCE)
def prune_live_events() -> int:
    """Drop events and presence older than a day; idempotent."""
    return live_prune(before=timezone.now() - PRUNE_AFTER)
