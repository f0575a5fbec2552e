"""Post-crisis review reads: the review page, the incident page's panel, the exports' data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from crisisdesk.types import Member
from incidents.lifecycle.selectors import PhaseGroup, incident_timeline, timeline_events
from incidents.lifecycle.timeline import crisis_start_from
from incidents.models import ActionItem, Incident, Review
from incidents.review.kpis import kpi_rows, kpis_computed_at


def review_get(incident: Incident) -> Review | None:
    """The incident's review, or None before one is written."""
    return Review.objects.filter(incident=incident).first()


def review_with_action_items(incident: Incident) -> Review | None:
    """The review with its author and its action items (owners, playbooks) loaded: three queries."""
    return (
        Review.objects.select_related("author")
        .prefetch_related(
            Prefetch("action_items", queryset=ActionItem.objects.select_related("owner", "playbook"))
        )
        .filter(incident=incident)
        .first()
    )


def action_item_get(*, review: Review, pk: int) -> ActionItem | None:
    """One action item of ``review``, or None (another review's item is not found here)."""
    return ActionItem.objects.filter(review=review, pk=pk).first()


def action_item_owner_choices() -> QuerySet[Member]:
    """Active members who can own an action item."""
    return get_user_model().objects.filter(is_active=True).order_by("username")


def review_panel(incident: Incident) -> dict[str, Any]:
    """The incident page's review panel: the review and its KPI rows, in one query."""
    review = Review.objects.select_related("author").filter(incident=incident).first()
    return {"review": review, "review_kpis": kpi_rows(review.kpis) if review else []}


def review_page(incident: Incident) -> dict[str, Any]:
    """What the review page shows: the review, its KPIs and when they were computed, its action items."""
    review = review_with_action_items(incident)
    return {
        "incident": incident,
        "review": review,
        "kpis": kpi_rows(review.kpis) if review else [],
        "kpis_computed_at": kpis_computed_at(review.kpis) if review else None,
        "action_items": list(review.action_items.all()) if review else [],
    }


@dataclass
class ReviewExport:
    """Everything the Markdown and printable exports show (the field names are the print template's)."""

    incident: Incident
    review: Review
    kpis: list[dict[str, Any]]
    action_items: list[ActionItem]
    timeline: list[PhaseGroup]
    crisis_began_at: datetime | None


def review_export(incident: Incident) -> ReviewExport | None:
    """The export's data, or None when the incident has no review yet."""
    review = review_with_action_items(incident)
    if review is None:
        return None
    timeline = incident_timeline(incident)
    return ReviewExport(
        incident=incident,
        review=review,
        kpis=kpi_rows(review.kpis),
        action_items=list(review.action_items.all()),
        timeline=timeline,
        crisis_began_at=crisis_start_from(timeline_events(timeline), incident),
    )
