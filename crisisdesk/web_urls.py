from django.contrib.auth import views as auth_views
from django.urls import path

from crisisdesk.audit import views as audit_views
from crisisdesk.live import views as live_views
from crisisdesk.preferences import views as preference_views
from crisisdesk.team import views as team_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("team/", team_views.team, name="team"),
    path("team/add/", team_views.member_add, name="team-member-add"),
    path("team/<int:pk>/role/", team_views.member_role, name="team-member-role"),
    path("team/<int:pk>/active/", team_views.member_active, name="team-member-active"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("live/", live_views.live_stream, name="live"),
    path("preferences/", preference_views.preferences, name="preferences"),
    path("preferences/language/", preference_views.language_switch, name="preferences-language"),
    path("team/defaults/", preference_views.team_defaults, name="team-defaults"),
]
