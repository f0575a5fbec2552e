"""System checks for misconfiguration that would otherwise show up only in production."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register(deploy=True)
def check_production_services(app_configs: Iterable[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "SQLite is the laptop default; production wants PostgreSQL.",
                hint="Set DATABASE_URL=postgres://…",
                id="crisisdesk.W001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        problems.append(
            Warning(
                "Celery uses the laptop filesystem transport; production wants Redis.",
                hint="Set CELERY_BROKER_URL or REDIS_URL=redis://…",
                id="crisisdesk.W002",
            )
        )
    if "laptop-mode-insecure" in settings.SECRET_KEY:
        problems.append(
            Error("SECRET_KEY is the laptop default.", hint="Set SECRET_KEY.", id="crisisdesk.E001")
        )
    return problems


@register()
def check_webhook_limits(app_configs: Iterable[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.WEBHOOK_MAX_BATCH < 1:
        return [Error("WEBHOOK_MAX_BATCH must be at least 1.", id="crisisdesk.E002")]
    return []
