"""``ensure_permission``: the one check every write service makes before it changes anything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from crisisdesk.roles import MANAGE_PLAYBOOKS, ensure_permission

pytestmark = pytest.mark.django_db


def test_a_member_holding_the_permission_passes(manager):
    ensure_permission(manager, MANAGE_PLAYBOOKS, "Your role may not manage playbooks.")


def test_it_refuses_a_viewer_with_the_given_message(viewer):
    with pytest.raises(PermissionDenied, match="may not manage playbooks"):
        ensure_permission(viewer, MANAGE_PLAYBOOKS, "Your role may not manage playbooks.")


def test_it_refuses_a_deactivated_member_and_an_anonymous_visitor(manager):
    manager.is_active = False
    with pytest.raises(PermissionDenied):
        ensure_permission(manager, MANAGE_PLAYBOOKS, "No.")
    with pytest.raises(PermissionDenied):
        ensure_permission(AnonymousUser(), MANAGE_PLAYBOOKS, "No.")


def test_the_system_passes():
    ensure_permission(None, MANAGE_PLAYBOOKS, "No.")
