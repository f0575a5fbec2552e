"""The one refusal type: a service saying "no" to something a person asked for.

A service raises ``Refusal`` (or a subclass naming its feature) when the rules forbid an action in
the current state: approving your own draft, closing an incident that is still responding. Bad
field values stay Django's ``ValidationError`` keyed by field; missing permissions stay
``PermissionDenied``. The message is written for the person who asked and is shown as it is.

The edges translate all three in one place each: ``crisisdesk.web.run_action`` for HTML views (a
flash message) and ``crisisdesk.api_errors.exception_handler`` for the REST API (a status and JSON).
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """An action the rules refuse. ``status`` is its HTTP status in the API (409 Conflict: the
    request is well-formed, the state forbids it); ``details`` are extra JSON fields for the API
    answer (e.g. the incident's current status)."""

    status: int = 409
    code: str = "refused"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message
