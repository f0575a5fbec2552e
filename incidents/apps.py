from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Connects the incident_event receiver that creates notification deliveries.
        from incidents.notifications import receivers  # noqa: F401
