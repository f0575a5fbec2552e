from django.urls import path

from incidents.archive import views as archive_views
from incidents.lifecycle import views
from incidents.notifications import views as notification_views
from incidents.publishing import views as publishing_views
from incidents.response import views as response_views
from incidents.review import views as review_views
from incidents.room import views as room_views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/transition/", views.incident_transition, name="transition"),
    path("<int:pk>/severity/", views.incident_severity, name="severity"),
    path("<int:pk>/owner/", views.incident_owner, name="owner"),
    path("<int:pk>/timeline/", room_views.timeline_more, name="timeline_more"),
    # Working an incident. No delete/hide routes for mentions, replies or evidence, by policy.
    path("<int:pk>/playbook/activate/", response_views.playbook_activate, name="playbook_activate"),
    path("<int:pk>/tasks/<int:task_pk>/", response_views.task_set_done, name="task_set_done"),
    path("<int:pk>/roles/<int:assignment_pk>/", response_views.role_assign, name="role_assign"),
    path("<int:pk>/drafts/new/", response_views.draft_create, name="draft_create"),
    path("<int:pk>/drafts/from-template/", response_views.draft_from_template, name="draft_from_template"),
    path("<int:pk>/drafts/<int:draft_pk>/edit/", response_views.draft_edit, name="draft_edit"),
    path("<int:pk>/drafts/<int:draft_pk>/submit/", response_views.draft_submit, name="draft_submit"),
    path("<int:pk>/drafts/<int:draft_pk>/approve/", response_views.draft_approve, name="draft_approve"),
    path("<int:pk>/drafts/<int:draft_pk>/return/", response_views.draft_return, name="draft_return"),
    path("<int:pk>/drafts/<int:draft_pk>/publish/", response_views.draft_publish, name="draft_publish"),
    path("<int:pk>/replies/", response_views.reply_record, name="reply_record"),
    path("<int:pk>/evidence/", response_views.evidence_capture, name="evidence_capture"),
    path("<int:pk>/mentions/add/", response_views.mention_add, name="mention_add"),
    path("<int:pk>/first-response/", response_views.first_response_set, name="first_response_set"),
    path("<int:pk>/public-summary/", response_views.public_summary_set, name="public_summary_set"),
    # The public face: dark sites (the public pages themselves are under /status/).
    path("darksites/", publishing_views.site_list, name="darksites"),
    path("darksites/prepare/<int:watch_pk>/", publishing_views.site_prepare, name="darksite_prepare"),
    path("darksites/<int:pk>/", publishing_views.site_detail, name="darksite"),
    path("darksites/<int:pk>/logo/", publishing_views.site_logo, name="darksite_logo"),
    path("darksites/<int:pk>/preview/", publishing_views.site_preview, name="darksite_preview"),
    path("<int:pk>/darksite/live/", publishing_views.site_go_live, name="darksite_live"),
    path("<int:pk>/darksite/off/", publishing_views.site_switch_off, name="darksite_off"),
    path("<int:pk>/drafts/<int:draft_pk>/darksite/", publishing_views.draft_publish, name="darksite_publish"),
    path("<int:pk>/next-update/", publishing_views.next_update_set, name="next_update_set"),
    # Notifications
    path("notifications/", notification_views.channel_list, name="notification_channels"),
    path("notifications/new/", notification_views.channel_create, name="notification_channel_create"),
    path("notifications/<int:pk>/", notification_views.channel_edit, name="notification_channel_edit"),
    path(
        "notifications/<int:pk>/active/",
        notification_views.channel_set_active,
        name="notification_channel_set_active",
    ),
    path("notifications/<int:pk>/test/", notification_views.channel_test, name="notification_channel_test"),
    path(
        "notifications/<int:pk>/rotate-secret/",
        notification_views.channel_rotate_secret,
        name="notification_channel_rotate_secret",
    ),
    path("notifications/deliveries/", notification_views.delivery_log, name="notification_deliveries"),
    path(
        "notifications/deliveries/<int:pk>/retry/",
        notification_views.delivery_retry,
        name="notification_delivery_retry",
    ),
    path(
        "<int:pk>/notifications/",
        notification_views.incident_deliveries,
        name="notification_incident_deliveries",
    ),
    # After the crisis
    path("<int:pk>/review/", review_views.review_page, name="review"),
    path("<int:pk>/review/edit/", review_views.review_edit, name="review_edit"),
    path("<int:pk>/review/kpis/", review_views.review_recompute, name="review_recompute"),
    path("<int:pk>/review/actions/", review_views.action_item_add, name="review_action_item_add"),
    path(
        "<int:pk>/review/actions/<int:item_pk>/done/",
        review_views.action_item_done,
        name="review_action_item_done",
    ),
    path("<int:pk>/review/export.md", review_views.review_export_markdown, name="review_markdown"),
    path("<int:pk>/review/print/", review_views.review_print, name="review_print"),
    # Audits and legal holds: the archive zip (managers and up, audited).
    path("<int:pk>/archive/", archive_views.incident_archive, name="archive"),
]
