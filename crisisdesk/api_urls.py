from django.urls import path

from incidents.api import views as incident_apis
from monitoring.api import views as monitoring_api
from monitoring.api import webhook as monitoring_webhook
from playbooks.api import views as playbook_apis

app_name = "crisisdesk"
urlpatterns: list = [
    path("incidents/", incident_apis.IncidentListApi.as_view(), name="incident-list"),
    path("incidents/<int:pk>/", incident_apis.IncidentDetailApi.as_view(), name="incident-detail"),
    path(
        "incidents/<int:pk>/acknowledge/",
        incident_apis.IncidentAcknowledgeApi.as_view(),
        name="incident-acknowledge",
    ),
    path("incidents/<int:pk>/resolve/", incident_apis.IncidentResolveApi.as_view(), name="incident-resolve"),
    path(
        "incidents/<int:pk>/transition/",
        incident_apis.IncidentTransitionApi.as_view(),
        name="incident-transition",
    ),
    path(
        "sources/<int:source_id>/webhook/",
        monitoring_webhook.SourceWebhookApi.as_view(),
        name="source-webhook",
    ),
    # Monitoring reads (viewer+) and watch/rule writes (managers): monitoring/api/views.py, docs/api.md.
    path("watches/", monitoring_api.WatchListApi.as_view(), name="watch-list"),
    path("watches/<int:pk>/", monitoring_api.WatchDetailApi.as_view(), name="watch-detail"),
    path("sources/", monitoring_api.SourceListApi.as_view(), name="source-list"),
    path("sources/<int:pk>/", monitoring_api.SourceDetailApi.as_view(), name="source-detail"),
    path("mentions/", monitoring_api.MentionListApi.as_view(), name="mention-list"),
    path("mentions/<int:pk>/", monitoring_api.MentionDetailApi.as_view(), name="mention-detail"),
    path("signals/", monitoring_api.SignalListApi.as_view(), name="signal-list"),
    path("signals/<int:pk>/", monitoring_api.SignalDetailApi.as_view(), name="signal-detail"),
    path("rules/", monitoring_api.RuleListApi.as_view(), name="rule-list"),
    path("rules/<int:pk>/", monitoring_api.RuleDetailApi.as_view(), name="rule-detail"),
    # Playbooks (read-only, viewer+): playbooks/api/views.py.
    path("scenarios/", playbook_apis.ScenarioListApi.as_view(), name="scenario-list"),
    path("playbooks/", playbook_apis.PlaybookListApi.as_view(), name="playbook-list"),
    path("playbooks/<int:pk>/", playbook_apis.PlaybookDetailApi.as_view(), name="playbook-detail"),
    path("message-templates/", playbook_apis.MessageTemplateListApi.as_view(), name="message-template-list"),
    path(
        "message-templates/<int:pk>/",
        playbook_apis.MessageTemplateDetailApi.as_view(),
        name="message-template-detail",
    ),
]
