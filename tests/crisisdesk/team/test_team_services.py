"""The team services: admins manage members; nobody locks the team out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from crisisdesk.models import AuditRecord
from crisisdesk.roles import user_role
from crisisdesk.team.services import TeamError, member_change_role, member_create, member_set_active

pytestmark = pytest.mark.django_db


class TestServices:
    def test_adding_a_member_with_a_generated_password(self, admin_member):
        member, password = member_create(
            username="ayu", email="ayu@example.com", role="responder", by=admin_member
        )
        assert password and member.check_password(password)
        assert user_role(member) == "responder"
        audit = AuditRecord.objects.get(action="team.member.add")
        assert audit.actor == admin_member and audit.after["role"] == "responder"
        assert password not in str(audit.after)

    def test_adding_a_member_with_a_chosen_password(self, admin_member):
        member, generated = member_create(
            username="kasia", email="", role="viewer", by=admin_member, password="Lato-nad-morzem-2026"
        )
        assert generated is None and member.check_password("Lato-nad-morzem-2026")

    def test_a_weak_password_or_taken_username_is_refused(self, admin_member, responder):
        with pytest.raises(ValidationError) as exc:
            member_create(username="bob", email="", role="viewer", by=admin_member, password="123")
        assert "password" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            member_create(username=responder.username.upper(), email="", role="viewer", by=admin_member)
        assert "username" in exc.value.message_dict
        with pytest.raises(ValidationError):
            member_create(username="x", email="", role="overlord", by=admin_member)

    def test_only_admins_manage_the_team(self, manager, viewer):
        with pytest.raises(PermissionDenied):
            member_create(username="sneaky", email="", role="admin", by=manager)
        with pytest.raises(PermissionDenied):
            member_change_role(member=viewer, role="admin", by=manager)

    def test_changing_a_role_replaces_the_old_one(self, admin_member, viewer):
        member_change_role(member=viewer, role="manager", by=admin_member)
        assert list(viewer.groups.values_list("name", flat=True)) == ["manager"]
        audit = AuditRecord.objects.get(action="team.member.role")
        assert audit.before["role"] == "viewer" and audit.after["role"] == "manager"

    def test_an_admin_cannot_demote_or_deactivate_themselves(self, admin_member):
        other = User.objects.create_user("second-admin")
        other.groups.add(*admin_member.groups.all())
        with pytest.raises(TeamError, match="yourself"):
            member_change_role(member=admin_member, role="viewer", by=admin_member)
        with pytest.raises(TeamError, match="yourself"):
            member_set_active(member=admin_member, is_active=False, by=admin_member)
        assert user_role(User.objects.get(pk=admin_member.pk)) == "admin"

    def test_an_admin_may_demote_another_admin_while_one_remains(self, admin_member):
        other = User.objects.create_user("second-admin")
        other.groups.add(*admin_member.groups.all())
        member_set_active(member=other, is_active=False, by=admin_member)
        member_set_active(member=other, is_active=True, by=admin_member)
        member_change_role(member=other, role="viewer", by=admin_member)
        assert user_role(User.objects.get(pk=other.pk)) == "viewer"

    def test_the_last_admin_cannot_be_removed_by_anyone(self, admin_member):
        # A member given the team permission directly (not an admin) still cannot remove the last admin.
        delegate = User.objects.create_user("delegate")
        delegate.user_permissions.add(Permission.objects.get(codename="manage_team"))
        delegate = User.objects.get(pk=delegate.pk)
        with pytest.raises(TeamError, match="last active admin"):
            member_change_role(member=admin_member, role="viewer", by=delegate)
        with pytest.raises(TeamError, match="last active admin"):
            member_set_active(member=admin_member, is_active=False, by=delegate)
        assert User.objects.get(pk=admin_member.pk).is_active
        assert user_role(User.objects.get(pk=admin_member.pk)) == "admin"

    def test_deactivation_is_recorded_and_refuses_sign_in(self, admin_member, responder):
        member_set_active(member=responder, is_active=False, by=admin_member)
        assert AuditRecord.objects.filter(
            action="team.member.deactivate", object_id=str(responder.pk)
        ).exists()
        from tests.conftest import PASSWORD

        assert not Client().login(username=responder.username, password=PASSWORD)
        with pytest.raises(TeamError, match="already"):
            member_set_active(member=responder, is_active=False, by=admin_member)
