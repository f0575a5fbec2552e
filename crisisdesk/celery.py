"""The Celery app. Each app declares its periodic tasks in ``<app>/schedule.py`` as ``BEAT``."""

from __future__ import annotations

import importlib
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")

app = Celery("crisisdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The live stream's housekeeping lives in a package of crisisdesk, not in an app's tasks.py.
app.autodiscover_tasks(["crisisdesk.live"])


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    schedule: dict = {}
    for module_name in ("monitoring.schedule", "incidents.schedule", "crisisdesk.live.schedule"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        schedule.update(getattr(module, "BEAT", {}))
    sender.conf.beat_schedule = {**schedule, **(sender.conf.beat_schedule or {})}
