from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware:
    """Sends one strict Content-Security-Policy header: no inline script can ever run."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


# How long a client should wait before trying again while the database is unreachable: a restart
# or failover takes seconds, and a sender that retries sooner only adds load.
DATABASE_DOWN_RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """The database down is a 503 with ``Retry-After``, never a 500 with a traceback page.

    ``OperationalError`` and ``InterfaceError`` are what Django raises when it cannot reach the
    database (refused connection, restart, failover; SQLite's "database is locked" under a burst).
    Nothing was committed by the failing request, so retrying it later is safe. API and webhook
    callers get JSON; people get a short page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable for %s %s: %s", request.method, request.path, exception)
        detail = _("The database is unavailable for a moment. Nothing was lost; try again shortly.")
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": detail, "code": "database_unavailable"}, status=503)
        else:
            response = HttpResponse(
                render_to_string(
                    "503.html", {"detail": detail, "retry_after": DATABASE_DOWN_RETRY_AFTER_SECONDS}
                ),
                status=503,
            )
        response["Retry-After"] = str(DATABASE_DOWN_RETRY_AFTER_SECONDS)
        return response
