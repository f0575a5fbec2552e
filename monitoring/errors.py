"""Monitoring's refusals: what the rules refuse in the current state, as one ``Refusal`` type."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from crisisdesk.errors import Refusal


class MonitoringRefusal(Refusal, ValidationError):
    """A monitoring action the current state refuses: deleting a rule that fired, polling a push or
    paused source, restarting what is not a drill, re-queueing an import that is not stalled.

    Also a ``ValidationError``, which is what these were raised as before ``Refusal`` existed:
    management commands and scripts that catch that keep working. ``Refusal`` comes first in the
    MRO, so both edges treat it as a refusal (``crisisdesk.web``: a flash message with the message
    as it is; ``crisisdesk.api_errors``: 409 with ``detail`` and ``code``).
    """

    # Refusal sets a plain str; ValidationError declares str or lazy text: a refusal's is the str.
    message: str
    code = "monitoring_refused"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        # ValidationError.__init__ (reached through Refusal's super()) sets ``code`` to None: pass ours.
        super().__init__(message, code=code or type(self).code, **details)
