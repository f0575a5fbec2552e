"""Monitoring pages: setup (watches, sources, rules) and imports. The REST API and the webhook are
routed in ``crisisdesk/api_urls.py``."""

from django.urls import path

from monitoring.explorer import views as explorer
from monitoring.intake.imports import views as imports
from monitoring.setup import views

app_name = "monitoring"
urlpatterns = [
    path("", views.watch_list, name="watches"),
    path("watches/new/", views.watch_create, name="watch_create"),
    path("watches/<int:pk>/", views.watch_detail, name="watch_detail"),
    path("watches/<int:pk>/edit/", views.watch_edit, name="watch_edit"),
    path("watches/<int:pk>/sources/new/", views.source_create, name="source_create"),
    path("watches/<int:pk>/rules/", views.rule_list, name="rules"),
    path("watches/<int:pk>/rules/new/", views.rule_create, name="rule_create"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:pk>/", views.source_setup, name="source_setup"),
    path("sources/<int:pk>/pause/", views.source_pause, name="source_pause"),
    path("sources/<int:pk>/resume/", views.source_resume, name="source_resume"),
    path("sources/<int:pk>/poll/", views.source_poll_now, name="source_poll_now"),
    path("sources/<int:pk>/rotate-secret/", views.source_rotate_secret, name="source_rotate_secret"),
    path("sources/<int:pk>/restart-drill/", views.source_restart_drill, name="source_restart_drill"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/backtest/", views.rule_backtest, name="rule_backtest"),
    path("mentions/", explorer.mention_explorer, name="mentions"),
    path("mentions/export/", explorer.mentions_export, name="mentions_export"),
    path("imports/", imports.import_upload, name="import_upload"),
    path("imports/<str:upload_id>/", imports.import_status, name="import_status"),
    path("imports/<str:upload_id>/retry/", imports.import_retry, name="import_retry"),
]
