from django.apps import AppConfig, apps
from django.core.management import call_command
from django.db.models.signals import post_migrate


class CrisisDeskConfig(AppConfig):
    name = "crisisdesk"
    verbose_name = "CrisisDesk team and audit"

    def ready(self) -> None:
        # Imported once the app registry is ready: the checks read models and settings.
        from crisisdesk import checks  # noqa: F401  (registers system checks)
        from crisisdesk.preferences import signals  # noqa: F401  (the locale joins the session at sign-in)

        # Runs once per migrate, after every app's permissions exist (sender = the last app).
        post_migrate.connect(_sync_roles_after_last_app, dispatch_uid="crisisdesk-sync-roles")
        # The database cache's table is no model, so no migration makes it: every migrate does.
        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="crisisdesk-cache-table")


def _sync_roles_after_last_app(sender, app_config=None, using="default", **kwargs) -> None:
    # Loaded when a migrate runs, not while the app registry is still being populated (this module
    # is imported during it, and roles reaches DRF and the auth app).
    from crisisdesk.roles import sync_role_groups

    last = list(apps.get_app_configs())[-1]
    if app_config is not None and app_config.label == last.label:
        sync_role_groups()


def _create_cache_table(sender, using="default", **kwargs) -> None:
    """Create the table of every database cache in CACHES (laptop mode's), if it is missing.

    Laptop mode shares the webhook quota between gunicorn workers through it, and ``make run`` (like
    the demo test) only migrates; with Redis configured there is no such cache and nothing is made.
    """
    call_command("createcachetable", database=using, verbosity=0)
