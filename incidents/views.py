from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crisisdesk.roles import VIEW_INCIDENTS, require
from incidents.models import Incident


@require(VIEW_INCIDENTS)
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = Incident.objects.select_related("watch").order_by("-detected_at", "-id")[:200]
    return render(request, "incidents/incident_list.html", {"incidents": incidents})
