from django.apps import AppConfig


class CrisisDeskConfig(AppConfig):
    name = "crisisdesk"
    verbose_name = "CrisisDesk team and audit"

    def ready(self) -> None:
        from crisisdesk import checks  # noqa: F401  (registers system checks)
