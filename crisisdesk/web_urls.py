from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from crisisdesk import views, views_audit

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="incidents:list", permanent=False), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("team/", views.team, name="team"),
    path("team/add/", views.member_add, name="team-member-add"),
    path("team/<int:pk>/role/", views.member_role, name="team-member-role"),
    path("team/<int:pk>/active/", views.member_active, name="team-member-active"),
    path("audit/", views_audit.audit_list, name="audit"),
]
