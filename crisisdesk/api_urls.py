from django.urls import path

from incidents import apis as incident_apis
from monitoring import apis as monitoring_apis

app_name = "crisisdesk"
urlpatterns: list = [
    path("incidents/", incident_apis.IncidentListApi.as_view(), name="incident-list"),
    path("incidents/<int:pk>/", incident_apis.IncidentDetailApi.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/acknowledge/", incident_apis.IncidentAcknowledgeApi.as_view(), name="incident-acknowledge"),
    path("incidents/<int:pk>/resolve/", incident_apis.IncidentResolveApi.as_view(), name="incident-resolve"),
    path("incidents/<int:pk>/transition/", incident_apis.IncidentTransitionApi.as_view(), name="incident-transition"),
    path("sources/<int:source_id>/webhook/", monitoring_apis.SourceWebhookApi.as_view(), name="source-webhook"),
]
