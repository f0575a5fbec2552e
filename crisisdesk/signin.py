"""Sign-in throttling: django-axes counts failed passwords on the sign-in form and the API's Basic auth.

After ``AXES_FAILURE_LIMIT`` failures for one username from one IP address (``AXES_LOCKOUT_PARAMETERS``)
that pair is locked: even the right password is refused until ``AXES_COOLOFF_TIME`` has passed or an
admin resets it (Django admin → Axes → Access attempts: delete the attempt; or ``manage.py
axes_reset_username <name>``: docs/operations.md). Both doors answer 429 through ``lockout_response``
(called by ``AxesMiddleware``): the form with the lockout page, the API with JSON.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username, get_cool_off
from axes.signals import user_locked_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = "Too many failed sign-ins for this account from this address: it is locked."


class SignInThrottleBackend(AxesStandaloneBackend):
    """axes' lockout check, first in ``AUTHENTICATION_BACKENDS``; it never signs anyone in itself.

    A credential check without a request (a shell, a management command, the test client's
    ``login()``) has no client to count or lock, so it is left to the next backend instead of
    failing as axes' own backend does. Every sign-in from the network passes its request: Django's
    login form and DRF's Basic authentication both do.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


# Imported with the backend above, so connected before the first sign-in can fail.
@receiver(user_locked_out, dispatch_uid="crisisdesk-lockout-reaches-the-http-request")
def _mark_the_http_request(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """DRF authenticates with its own request object, so axes marks *that* one locked out; copy
    the mark to the Django request underneath, where ``AxesMiddleware`` looks for it."""
    inner = getattr(request, "_request", None)
    if isinstance(inner, HttpRequest):
        # axes reads these attributes off the request by name.
        setattr(inner, "axes_locked_out", True)  # noqa: B010
        setattr(inner, "axes_credentials", getattr(request, "axes_credentials", None))  # noqa: B010


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with a ``Retry-After`` when the lock expires by itself; JSON
    for API calls (HTTP Basic or ``/api/``), the lockout page for the sign-in form."""
    cool_off = get_cool_off(request)
    if request.path.startswith("/api/") or "HTTP_AUTHORIZATION" in request.META:
        detail = f"{LOCKED_MESSAGE} " + (
            "Wait, or ask an admin to unlock it." if cool_off else "Ask an admin to unlock it."
        )
        response: HttpResponse = JsonResponse({"detail": detail, "code": "locked_out"}, status=429)
    else:
        context = {"username": get_client_username(request, credentials) or "", "cooloff_timedelta": cool_off}
        response = render(request, "registration/lockout.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
