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


# Memory caches are per process: under gunicorn each worker would keep its own webhook quota and
# its own memory of accepted signatures, which is how one captured request replayed locked a real
# sender out.
_PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register()
def check_cache_shared(app_configs: Iterable[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.CACHES["default"]["BACKEND"] not in _PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            "The default cache is not shared between processes: each web process would count the "
            "webhook quota and remember accepted signatures on its own.",
            hint="Set CACHE_URL=redis://… (or leave CACHES to crisisdesk.settings).",
            id="crisisdesk.W003",
        )
    ]
