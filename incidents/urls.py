from django.urls import path

from incidents import views
from incidents import views_notifications as notification_views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/transition/", views.incident_transition, name="transition"),
    path("<int:pk>/severity/", views.incident_severity, name="severity"),
    path("<int:pk>/owner/", views.incident_owner, name="owner"),
    # Notifications (helper N)
    path("notifications/", notification_views.channel_list, name="notification_channels"),
    path("notifications/new/", notification_views.channel_create, name="notification_channel_create"),
    path("notifications/<int:pk>/", notification_views.channel_edit, name="notification_channel_edit"),
    path("notifications/<int:pk>/active/", notification_views.channel_set_active,
         name="notification_channel_set_active"),
    path("notifications/<int:pk>/test/", notification_views.channel_test, name="notification_channel_test"),
    path("notifications/<int:pk>/rotate-secret/", notification_views.channel_rotate_secret,
         name="notification_channel_rotate_secret"),
    path("notifications/deliveries/", notification_views.delivery_log, name="notification_deliveries"),
    path("notifications/deliveries/<int:pk>/retry/", notification_views.delivery_retry,
         name="notification_delivery_retry"),
    path("<int:pk>/notifications/", notification_views.incident_deliveries, name="notification_incident_deliveries"),
]
