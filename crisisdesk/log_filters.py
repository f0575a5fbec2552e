"""Logging filters for the console handler (see ``LOGGING`` in settings)."""

from __future__ import annotations

import logging


class OneLineForClientErrors(logging.Filter):
    """A refused request (a 4xx, such as a 403 for a role that may not act) is logged as one line.

    Django's request logger attaches the ``PermissionDenied`` it caught as ``exc_info``, so every
    403 printed a full traceback: noise that buries the real errors. Only 5xx keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
