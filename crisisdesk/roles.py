"""Access roles: Django groups carrying permissions, created by a migration.

Pages and endpoints check *permissions* (below), never group names, so a role is exactly the
permissions its group holds. ``user_role`` names the strongest role for display and for the team
page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http.response import HttpResponseBase
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from crisisdesk.types import Member

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])

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
# Taking an incident's data out of CrisisDesk (the archive zip: evidence, every mention, drafts):
# managers and up. Viewers and responders read incidents on the pages; a copy that leaves the
# building is a manager's call, and every export is audited (incidents.archive).
EXPORT_INCIDENTS = "incidents.export_incident"
# Preparing a watch's public dark site and switching it on or off for an incident: managers and up.
# Publishing approved words to a live site is publishing like any other channel (TRIAGE_INCIDENTS).
SWITCH_DARKSITE = "incidents.switch_darksite"
VIEW_MONITORING = "monitoring.view_watch"
MANAGE_MONITORING = "monitoring.manage_monitoring"  # watches, sources, rules, thresholds
VIEW_PLAYBOOKS = "playbooks.view_playbook"
MANAGE_PLAYBOOKS = "playbooks.manage_playbooks"
APPROVE_TEMPLATES = "playbooks.approve_template"
MANAGE_TEAM = "crisisdesk.manage_team"
VIEW_AUDIT = "crisisdesk.view_auditrecord"


# What each role may do. The initial migration created the groups from a frozen copy of this;
# ``sync_role_groups`` (run after every migrate and test-database flush) keeps them current.
_VIEWER_PERMISSIONS = [
    f"{app}.view_{model}"
    for app, models in {
        "monitoring": ["watch", "source", "mention", "rule", "signal", "bucket"],
        "playbooks": ["scenario", "playbook", "crisisrole", "checklistitem", "messagetemplate"],
        "incidents": [
            "incident",
            "timelineevent",
            "roleassignment",
            "task",
            "draft",
            "evidence",
            "reply",
            "review",
            "actionitem",
            "darksite",
            "darksitecontent",
            "publicupdate",
        ],
    }.items()
    for model in models
]
_RESPONDER_PERMISSIONS = [
    *_VIEWER_PERMISSIONS,
    TRIAGE_INCIDENTS,
    "incidents.change_incident",
    "incidents.add_roleassignment",
    "incidents.change_roleassignment",
    "incidents.change_task",
    "incidents.add_draft",
    "incidents.change_draft",
    "incidents.add_evidence",
    "incidents.add_reply",
    "incidents.add_review",
    "incidents.change_review",
    "incidents.add_actionitem",
    "incidents.change_actionitem",
]
_MANAGER_PERMISSIONS = [
    *_RESPONDER_PERMISSIONS,
    CLOSE_INCIDENTS,
    APPROVE_DRAFTS,
    MANAGE_NOTIFICATIONS,
    EXPORT_INCIDENTS,
    SWITCH_DARKSITE,
    "incidents.view_notificationchannel",
    "incidents.add_notificationchannel",
    "incidents.change_notificationchannel",
    "incidents.view_notificationdelivery",
    MANAGE_MONITORING,
    "monitoring.add_watch",
    "monitoring.change_watch",
    "monitoring.add_source",
    "monitoring.change_source",
    "monitoring.add_rule",
    "monitoring.change_rule",
    "monitoring.delete_rule",
    MANAGE_PLAYBOOKS,
    APPROVE_TEMPLATES,
    "playbooks.add_scenario",
    "playbooks.change_scenario",
    "playbooks.add_playbook",
    "playbooks.change_playbook",
    "playbooks.add_crisisrole",
    "playbooks.change_crisisrole",
    "playbooks.delete_crisisrole",
    "playbooks.add_checklistitem",
    "playbooks.change_checklistitem",
    "playbooks.delete_checklistitem",
    "playbooks.add_messagetemplate",
    "playbooks.change_messagetemplate",
]
_ADMIN_PERMISSIONS = [
    *_MANAGER_PERMISSIONS,
    MANAGE_TEAM,
    VIEW_AUDIT,
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    "incidents.delete_notificationchannel",
    "monitoring.delete_source",
    "monitoring.delete_watch",
    # Sign-in lockouts (django-axes) in Django admin: see them, unlock by deleting the attempt.
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "axes.view_accessfailurelog",
    "axes.view_accesslog",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMIN: _ADMIN_PERMISSIONS,
    MANAGER: _MANAGER_PERMISSIONS,
    RESPONDER: _RESPONDER_PERMISSIONS,
    VIEWER: _VIEWER_PERMISSIONS,
}


def sync_role_groups(**kwargs: Any) -> None:
    """Create the four role groups if missing and set exactly their permissions (idempotent).

    Connected to ``post_migrate``: a new model's permissions reach the roles without a data
    migration, and a flushed database (tests, ``manage.py flush``) gets its roles back.
    """
    # The auth models can be imported only once the app registry is ready; this module is imported
    # before that (settings-time code, app configs and URL confs read the permission constants).
    from django.contrib.auth.models import Group, Permission

    for role, names in ROLE_PERMISSIONS.items():
        wanted = Q(pk__in=[])
        for name in names:
            app_label, codename = name.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(Permission.objects.filter(wanted))


def user_role(user: Member | AnonymousUser | None) -> str | None:
    """The strongest access role of ``user``, or None for anonymous/role-less members."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)


def ensure_permission(by: Member | None, permission: str, message: str) -> None:
    """Raise ``PermissionDenied(message)`` unless ``by`` holds ``permission``; write services call it first.

    ``by`` is the member asking: an inactive or anonymous user holds no permission and is refused.
    ``by=None`` is the system — a management command or installer acting on its own authority — and
    passes. Only code passes None: a view always passes ``request.user``, never None, so no visitor
    can act as the system.
    """
    if by is None:
        return
    if not by.has_perm(permission):
        raise PermissionDenied(message)


def require(permission: str) -> Callable[[_View], _View]:
    """View decorator: sign-in required (redirect), then ``permission`` required (403).

    The view keeps its signature for the type checker, so it may take a ``MemberRequest``.
    """

    def decorator(view: _View) -> _View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"Your role may not do this ({permission}).")
            return view(request, *args, **kwargs)

        # Same arguments and answer as ``view`` (``wraps`` copied its name and docstring).
        return cast(_View, wrapped)

    return decorator


def api_permission(read: str, write: str | None = None) -> type[BasePermission]:
    """A DRF permission class: ``read`` for safe methods, ``write`` (default: ``read``) otherwise."""

    class _HasPermission(BasePermission):
        message = "Your role may not do this."

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            needed = read if request.method in ("GET", "HEAD", "OPTIONS") else (write or read)
            return user.has_perm(needed)

    _HasPermission.__name__ = f"HasPermission_{(write or read).replace('.', '_')}"
    return _HasPermission
