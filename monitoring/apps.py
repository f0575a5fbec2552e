from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # Imported once the app registry is ready: the checks read settings through the intake.
        from monitoring import checks  # noqa: F401  (registers system checks)
