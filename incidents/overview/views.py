"""The overview page (the home page): every role that may read incidents sees it."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from crisisdesk.roles import VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest
from incidents.overview.selectors import my_work, watch_states


@require(VIEW_INCIDENTS)
@require_safe
def overview_page(request: MemberRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "incidents/overview.html",
        {"watches": watch_states(now=now), "work": my_work(request.user, now=now), "now": now},
    )
