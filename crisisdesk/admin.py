from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from crisisdesk.admin_audit import AppendOnlyAdmin, AuditedAdmin
from crisisdesk.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(AppendOnlyAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "actor", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "object_repr", "object_id", "actor__username"]
    date_hierarchy = "at"
    list_select_related = ["actor"]


# --- Members: Django's user admin, without the keys to the kingdom ------------------------------

# What only a superuser may change here. Roles and (de)activation belong on the team page, whose
# services keep an admin from demoting or locking out the last admin (crisisdesk/services.py).
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "is_active", "groups", "user_permissions")


class MemberAdmin(AuditedAdmin, UserAdmin):
    """A member with the admin role edits names and emails (and passwords) of non-superusers here;
    privilege flags, groups and permissions are read-only for them, superusers untouchable."""

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [
                name for name in (*PRIVILEGE_FIELDS, "last_login", "date_joined") if name not in readonly
            ]
        return readonly

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # nor their password: user_change_password asks this too
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass


admin.site.unregister(User)
admin.site.register(User, MemberAdmin)
admin.site.unregister(Group)
admin.site.register(Group, AuditedGroupAdmin)


# --- Sign-in lockouts (django-axes): admins see attempts and unlock by deleting one --------------


class AuditedAccessAttemptAdmin(AuditedAdmin, AccessAttemptAdmin):
    # Deleting an attempt is the unlock, audited; axes' bulk "clean up expired" action is not
    # needed (expired attempts are cleaned at each failed sign-in) and would not be audited.
    actions: list = []


class AuditedAccessLogAdmin(AuditedAdmin, AccessLogAdmin):
    pass


class AuditedAccessFailureLogAdmin(AuditedAdmin, AccessFailureLogAdmin):
    pass


for _model, _admin in (
    (AccessAttempt, AuditedAccessAttemptAdmin),
    (AccessLog, AuditedAccessLogAdmin),
    (AccessFailureLog, AuditedAccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
