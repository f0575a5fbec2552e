"""Access roles: Django groups carrying permissions, created by a migration.

Pages and endpoints check *permissions* (below), never group names, so a role is exactly the
permissions its group holds. ``user_role`` names the strongest role for display and for the team
page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

ADMIN = "admin"
MANAGER = "manager"
RESPONDER = "responder"
VIEWER = "viewer"
ROLES: tuple[str, ...] = (ADMIN, MANAGER, RESPONDER, VIEWER)  # strongest first
ROLE_CHOICES = [(ADMIN, "Admin"), (MANAGER, "Manager"), (RESPONDER, "Responder"), (VIEWER, "Viewer")]

# The permissions pages and endpoints check.
VIEW_INCIDENTS = "incidents.view_incident"
TRIAGE_INCIDENTS = "incidents.triage_incident"  # acknowledge, assign, tasks, drafts, replies
CLOSE_INCIDENTS = "incidents.close_incident"
APPROVE_DRAFTS = "incidents.approve_draft"
MANAGE_NOTIFICATIONS = "incidents.manage_notifications"
VIEW_MONITORING = "monitoring.view_watch"
MANAGE_MONITORING = "monitoring.manage_monitoring"  # watches, sources, rules, thresholds
VIEW_PLAYBOOKS = "playbooks.view_playbook"
MANAGE_PLAYBOOKS = "playbooks.manage_playbooks"
APPROVE_TEMPLATES = "playbooks.approve_template"
MANAGE_TEAM = "crisisdesk.manage_team"
VIEW_AUDIT = "crisisdesk.view_auditrecord"


def user_role(user: Any) -> str | None:
    """The strongest access role of ``user``, or None for anonymous/role-less members."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)


def require(permission: str) -> Callable:
    """View decorator: sign-in required (redirect), then ``permission`` required (403)."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"Your role may not do this ({permission}).")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def api_permission(read: str, write: str | None = None) -> type[BasePermission]:
    """A DRF permission class: ``read`` for safe methods, ``write`` (default: ``read``) otherwise."""

    class _HasPermission(BasePermission):
        message = "Your role may not do this."

        def has_permission(self, request, view) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            needed = read if request.method in ("GET", "HEAD", "OPTIONS") else (write or read)
            return user.has_perm(needed)

    _HasPermission.__name__ = f"HasPermission_{(write or read).replace('.', '_')}"
    return _HasPermission
