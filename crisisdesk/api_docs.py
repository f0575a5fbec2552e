"""Who may read the OpenAPI schema (``/api/schema/``) and the API docs (``/api/docs/``).

The schema maps every endpoint and field: in production only signed-in members read it. Laptop
mode and ``DEBUG`` keep it open (``API_DOCS_PUBLIC``), so a developer and the schema fuzzing test
(tests/test_api_schema.py) can load it without credentials.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import BasePermission


class ApiDocsAccess(BasePermission):
    """Anyone when ``settings.API_DOCS_PUBLIC``, else any signed-in member (read at each request)."""

    message = "Sign in to read the API schema and docs."

    def has_permission(self, request: Any, view: Any) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)
