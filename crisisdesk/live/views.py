"""The live stream endpoint: ``GET /live/?topics=incident:5,incidents&here=incident:5``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from crisisdesk.live.selectors import live_latest_id
from crisisdesk.live.stream import StreamTimes, stream_async, stream_sync
from crisisdesk.live.topics import TOPICS_MAX, topic_permission
from crisisdesk.roles import VIEW_INCIDENTS, require
from crisisdesk.types import MemberRequest


def _times() -> StreamTimes:
    return StreamTimes(**getattr(settings, "LIVE_STREAM_TIMES", {}))


@require(VIEW_INCIDENTS)
@require_GET
def live_stream(request: MemberRequest) -> HttpResponse | StreamingHttpResponse:
    """Changes on ``topics`` as server-sent events, from after ``Last-Event-ID`` (a reconnect) or
    from now (a fresh page). ``here`` (one of the topics) announces the member as present on it."""
    topics = [topic for topic in request.GET.get("topics", "").split(",") if topic]
    if not topics or len(topics) > TOPICS_MAX:
        return HttpResponseBadRequest(f"Give 1 to {TOPICS_MAX} topics, comma-separated.")
    for topic in topics:
        permission = topic_permission(topic)
        if permission is None:
            return HttpResponseBadRequest("Unknown topic. Topics are incident:<id>, incidents and overview.")
        if not request.user.has_perm(permission):
            return HttpResponse("Your role may not follow this topic.", status=403)
    here = request.GET.get("here") or None
    if here is not None and here not in topics:
        return HttpResponseBadRequest("here must be one of the topics.")
    last = request.headers.get("Last-Event-ID", "")
    after = int(last) if last.isdigit() else live_latest_id()
    times = _times()
    if isinstance(request, ASGIRequest):
        body: Iterator[str] | AsyncIterator[str] = stream_async(
            topics=topics, after=after, member=request.user, here=here, times=times
        )
    else:
        body = stream_sync(topics=topics, after=after, member=request.user, here=here, times=times)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response
