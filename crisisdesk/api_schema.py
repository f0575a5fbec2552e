"""The OpenAPI schema documents every status an operation really answers, not only its success.

``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` points at ``CrisisDeskAutoSchema``. drf-spectacular
documents what a view declares (its serializer, its ``extend_schema(responses=...)``); the statuses
that DRF, django-filter, the pagination and django-axes add around every view are the same for
each operation, so they are added here, from what the view is, instead of repeated on 26 views:

- an operation that needs a signed-in member answers 401 (no or wrong credentials; Basic's
  ``WWW-Authenticate`` challenge), 403 (the role may not), and 429 (django-axes locked the
  username for this address after too many wrong passwords; ``Retry-After`` when it unlocks by
  itself: crisisdesk/signin.py);
- an operation with a path id answers 404 when no such row exists;
- a write, or a list with filters or pages, answers 400 naming the invalid field (a list's page
  or cursor that does not exist is a 404, as DRF's paginations say).

A status a view documents itself is never replaced: its description says more.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# ``{"detail": ..., "code": ...}``: DRF's errors carry ``detail``; refusals and the lockout add a
# ``code`` (and sometimes more keys, which the schema allows).
ERROR = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(required=False),
    },
)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _header(description: str) -> dict[str, Any]:
    return {"schema": {"type": "string"}, "description": description}


class CrisisDeskAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, response, headers in self._statuses_around_the_view():
            if code in responses:
                continue
            body = self._get_response_for_code(response, code, direction=direction)
            if headers:
                body["headers"] = {**headers, **body.get("headers", {})}
            responses[code] = body
        return responses

    def _statuses_around_the_view(self) -> list[tuple[str, Any, dict[str, Any]]]:
        statuses: list[tuple[str, Any, dict[str, Any]]] = []
        if self._needs_a_member():
            statuses += [
                (
                    "401",
                    OpenApiResponse(ERROR, description=str(_("Not signed in, or wrong credentials."))),
                    {"WWW-Authenticate": _header(str(_("How to sign in (HTTP Basic).")))},
                ),
                ("403", OpenApiResponse(ERROR, description=str(_("Your role may not do this."))), {}),
                (
                    "429",
                    OpenApiResponse(
                        ERROR,
                        description=str(
                            _("Too many failed sign-ins for this username from this address: it is locked.")
                        ),
                    ),
                    {
                        "Retry-After": _header(
                            str(_("Seconds until the lock expires, when it expires by itself."))
                        )
                    },
                ),
            ]
        if self._takes_input():
            statuses.append(
                (
                    "400",
                    OpenApiResponse(
                        OpenApiTypes.OBJECT,
                        description=str(_("The request is invalid: the errors are keyed by the field.")),
                    ),
                    {},
                )
            )
        if self._path_names_a_row() or self._is_paginated_list():
            description = _("No such row.") if self._path_names_a_row() else _("No such page.")
            statuses.append(("404", OpenApiResponse(ERROR, description=str(description)), {}))
        return statuses

    def _needs_a_member(self) -> bool:
        permissions = self.view.get_permissions() if hasattr(self.view, "get_permissions") else []
        return not all(isinstance(permission, AllowAny) for permission in permissions)

    def _path_names_a_row(self) -> bool:
        return "{" in self.path

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _takes_input(self) -> bool:
        if self.method in WRITE_METHODS:
            return True
        return self.method == "GET" and bool(self._get_filter_parameters() or self._is_paginated_list())
