"""The API edge: one DRF exception handler turns service refusals into statuses and JSON.

``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` points here. A ``Refusal`` answers its ``status`` (409 by
default) with ``{"detail", "code", **details}``; a Django ``ValidationError`` from a service answers
400 with the field errors, like a serializer's; everything else is DRF's default handling.

``handler404`` (crisisdesk/urls.py) is ``not_found``: a path under ``/api/`` that no route matches
(``/api/watches/acme/``: the ids are ``<int:pk>``) answers JSON like every other API error, not the
HTML page the browser gets.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crisisdesk.errors import Refusal


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refusal):
        return Response({"detail": exc.message, "code": exc.code, **exc.details}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        body: Any = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=400)
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return page_not_found(request, exception)
