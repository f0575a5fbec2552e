"""The team page: admins manage members from one page; everyone else gets 403."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from crisisdesk.roles import user_role

pytestmark = pytest.mark.django_db


class TestPage:
    def test_it_lists_members_with_role_and_state(self, client_for, admin_member, responder, viewer):
        viewer.is_active = False
        viewer.save()
        response = client_for(admin_member).get(reverse("team"))
        assert response.status_code == 200
        rows = {m.username: (m.access_role, m.is_active) for m in response.context["members"]}
        assert rows[responder.username] == ("responder", True)
        assert rows[viewer.username] == ("viewer", False)

    @pytest.mark.parametrize("persona", ["manager", "responder", "viewer"])
    def test_non_admins_get_403(self, request, client_for, persona):
        user = request.getfixturevalue(persona)
        client = client_for(user)
        assert client.get(reverse("team")).status_code == 403
        assert client.post(reverse("team-member-add"), {"username": "x", "role": "admin"}).status_code == 403
        assert client.post(reverse("team-member-role", args=[user.pk]), {"role": "admin"}).status_code == 403
        assert user_role(user) == persona

    def test_the_generated_password_is_shown_once(self, client_for, admin_member):
        client = client_for(admin_member)
        response = client.post(
            reverse("team-member-add"), {"username": "siti", "email": "siti@example.com", "role": "responder"}
        )
        assert response.status_code == 302
        first = client.get(reverse("team")).content.decode()
        assert "Initial password for siti" in first
        password = client.get(reverse("team")).context["new_password"]
        assert password is None
        siti = User.objects.get(username="siti")
        shown = first.split('<code class="secret">')[1].split("</code>")[0]
        assert siti.check_password(shown)

    def test_add_form_errors_name_the_field(self, client_for, admin_member):
        response = client_for(admin_member).post(
            reverse("team-member-add"), {"username": "bad name!", "role": "responder"}, follow=True
        )
        assert "username:" in response.content.decode()
        assert not User.objects.filter(username="bad name!").exists()

    def test_changing_a_role_and_deactivating_from_the_page(self, client_for, admin_member, viewer):
        client = client_for(admin_member)
        client.post(reverse("team-member-role", args=[viewer.pk]), {"role": "responder"})
        assert user_role(User.objects.get(pk=viewer.pk)) == "responder"
        client.post(reverse("team-member-active", args=[viewer.pk]), {"is_active": "0"})
        assert not User.objects.get(pk=viewer.pk).is_active
        response = client.post(
            reverse("team-member-active", args=[admin_member.pk]), {"is_active": "0"}, follow=True
        )
        assert "cannot deactivate yourself" in response.content.decode()
        assert User.objects.get(pk=admin_member.pk).is_active

    def test_the_nav_shows_team_only_to_admins(self, client_for, admin_member, manager):
        assert b'href="/team/"' in client_for(admin_member).get(reverse("incidents:list")).content
        assert b'href="/team/"' not in client_for(manager).get(reverse("incidents:list")).content
