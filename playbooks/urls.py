from django.urls import path

from playbooks import views
from playbooks.message_templates import views as template_views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_create, name="create"),
    path("<int:pk>/", views.playbook_detail, name="detail"),
    path("<int:pk>/edit/", views.playbook_edit, name="edit"),
    path("<int:pk>/new-version/", views.playbook_new_version, name="new_version"),
    path("<int:pk>/activate/", views.playbook_activate, name="activate"),
    path("<int:pk>/retire/", views.playbook_retire, name="retire"),
    path("<int:pk>/roles/new/", views.role_add, name="role_add"),
    path("<int:pk>/checklist/new/", views.checklist_add, name="checklist_add"),
    path("<int:pk>/templates/new/", template_views.template_add, name="template_add"),
    path("scenarios/new/", views.scenario_create, name="scenario_create"),
    path("scenarios/<int:pk>/edit/", views.scenario_edit, name="scenario_edit"),
    path("roles/<int:pk>/edit/", views.role_edit, name="role_edit"),
    path("roles/<int:pk>/remove/", views.role_remove, name="role_remove"),
    path("checklist/<int:pk>/edit/", views.checklist_edit, name="checklist_edit"),
    path("checklist/<int:pk>/remove/", views.checklist_remove, name="checklist_remove"),
    path("templates/approvals/", template_views.approvals, name="approvals"),
    path("templates/preview/", template_views.template_preview, name="template_preview"),
    path("templates/<int:pk>/", template_views.template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", template_views.template_edit, name="template_edit"),
    path("templates/<int:pk>/submit/", template_views.template_submit, name="template_submit"),
    path("templates/<int:pk>/approve/", template_views.template_approve, name="template_approve"),
    path("templates/<int:pk>/return/", template_views.template_return, name="template_return"),
]
