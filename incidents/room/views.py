"""The crisis room's part of the incident page, and the timeline's "show more" fragment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisdesk.live.selectors import live_present
from crisisdesk.live.topics import incident_topic
from crisisdesk.roles import VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest
from incidents.lifecycle.selectors import crisis_start, incident_get
from incidents.models import Incident
from incidents.room import selectors
from incidents.room.services import incident_seen
from playbooks.models import Phase

# Members whose open page beat within this long are "here now".
PRESENT_WINDOW = timedelta(seconds=30)


def room_context(request: MemberRequest, incident: Incident) -> dict[str, Any]:
    """The page's lead (fits ``incidents.lifecycle.views.INCIDENT_PANEL_CONTEXT``): the figures,
    the chart, the breakdown, the paged timeline and what changed since this member's last visit —
    which this visit then moves to now."""
    now = timezone.now()
    recorded_start = crisis_start(incident)
    # Opened by hand, with no pre-crisis sign: the crisis is as old as the incident.
    began = recorded_start or incident.detected_at
    since = selectors.since_last_looked(incident, request.user)
    incident_seen(incident=incident, member=request.user, at=now)
    present = live_present(topic=incident_topic(incident.pk), since=now - PRESENT_WINDOW)
    return {
        "present_others": [name for name in present if name != request.user.get_username()],
        "crisis_began": recorded_start,
        "glance": selectors.crisis_glance(incident, began=began, now=now),
        "chart": selectors.crisis_chart(incident, began=began, now=now),
        "breakdown": selectors.crisis_breakdown(incident),
        "timeline_phases": selectors.timeline_page(incident),
        "since": since,
        "room_now": now,
    }


@require(VIEW_INCIDENTS)
@require_GET
def timeline_more(request: MemberRequest, pk: int) -> HttpResponse:
    """Older events of one phase, after the event ``before`` (htmx swaps them in under the list)."""
    phase = request.GET.get("phase", "")
    before = request.GET.get("before", "")
    if phase not in Phase.values or not before.isdigit():
        return HttpResponseBadRequest(
            "Give a phase (pre, during or post) and the id of the last event shown."
        )
    try:
        incident = incident_get(pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None
    (group,) = selectors.timeline_page(incident, phase=phase, before=int(before))
    return render(request, "incidents/room/_timeline_events.html", {"incident": incident, "group": group})
