"""The signed webhook: other systems push batches of mentions (see docs/webhook.md).

The HMAC-SHA256 of the raw body with the source's secret is the credential. The endpoint is
``monitoring.api.webhook`` and what it accepts is decided in ``monitoring.intake.webhook``; this
connector signs, checks signatures, and describes and validates the config.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.core.exceptions import ValidationError

from monitoring.sources.base import Connector

SIGNATURE_HEADER = "X-CrisisDesk-Signature"
SIGNATURE_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts in ``X-CrisisDesk-Signature`` for ``body``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of a signature header against the body."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


class WebhookConnector(Connector):
    kind = "webhook"
    pull = False
    config_fields = {
        "expected_interval_minutes": (
            "Expected interval (minutes)",
            False,
            "Mark the source silent when no mention arrives for this long. Leave empty for none.",
        ),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = dict(config or {})
        value = config.get("expected_interval_minutes")
        if value is None or value == "":
            config.pop("expected_interval_minutes", None)
            return config
        try:
            minutes = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"expected_interval_minutes": "Enter a whole number of minutes."}) from None
        if not 1 <= minutes <= 60 * 24 * 30:
            raise ValidationError({"expected_interval_minutes": "Enter between 1 minute and 30 days."})
        config["expected_interval_minutes"] = minutes
        return config
