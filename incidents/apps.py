from __future__ import annotations

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Connects the incident_event receiver that creates notification deliveries. Imported here,
        # not at the top: the receiver imports models, which are not loaded when this class is.
        from incidents import live_receivers  # noqa: F401  (open pages hear of every change)
        from incidents.notifications import receivers  # noqa: F401
