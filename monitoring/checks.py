"""System checks for the monitoring app's settings (registered by ``MonitoringConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from monitoring.intake.webhook_guard import webhook_rate


@register()
def check_webhook_signature_settings(
    app_configs: Iterable[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS < 1:
        problems.append(
            Error("WEBHOOK_SIGNATURE_TOLERANCE_SECONDS must be at least 1.", id="monitoring.E001")
        )
    try:
        webhook_rate()
    except ValueError as error:
        problems.append(
            Error(f"WEBHOOK_THROTTLE: {error}.", hint="Use a rate such as 600/min.", id="monitoring.E002")
        )
    return problems
