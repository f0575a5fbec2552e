"""The CSV / JSON import source kind: exports from listening tools, uploaded rather than polled.

The connector only describes and validates the config (the time zone of dates written without
one); ``monitoring.intake.imports`` reads the files and stores their rows.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

from monitoring.sources.base import Connector


class ImportConnector(Connector):
    kind = "import"
    pull = False
    config_fields = {
        "timezone": (
            "Time zone of the export",
            False,
            "For dates written without a zone, e.g. Europe/Istanbul or Asia/Jakarta. Default UTC.",
        ),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = dict(config or {})
        name = str(config.get("timezone") or "").strip()
        if not name:
            config.pop("timezone", None)
            return config
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                {"timezone": f"Unknown time zone {name!r}; use e.g. Europe/Warsaw."}
            ) from None
        config["timezone"] = name
        return config
