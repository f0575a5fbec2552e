from __future__ import annotations

from django.contrib import admin

from crisisdesk.admin_audit import AuditedAdmin
from playbooks.models import ApprovalState, ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario

# An approved version is what responders send: it is replaced by a new version, never edited.
_SETTLED = (ApprovalState.APPROVED, ApprovalState.SUPERSEDED)


@admin.register(Scenario)
class ScenarioAdmin(AuditedAdmin):
    list_display = ["name", "type"]
    search_fields = ["name", "guidance"]


class CrisisRoleInline(admin.TabularInline):
    model = CrisisRole
    extra = 0


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["phase", "order", "title", "role", "due_offset_minutes"]


@admin.register(Playbook)
class PlaybookAdmin(AuditedAdmin):
    list_display = ["name", "scenario", "version", "status", "updated_at"]
    list_filter = ["status", "scenario"]
    search_fields = ["name", "description"]
    list_select_related = ["scenario"]
    inlines = [CrisisRoleInline, ChecklistItemInline]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(AuditedAdmin):
    list_display = [
        "title",
        "playbook",
        "kind",
        "language",
        "channel",
        "version",
        "approval_state",
        "approved_by",
    ]
    list_filter = ["approval_state", "kind", "language"]
    search_fields = ["title", "body"]
    list_select_related = ["playbook", "approved_by"]
    # Approval happens on the playbook pages (author ≠ approver, audited): never by editing a field here.
    readonly_fields = [
        "family",
        "version",
        "approval_state",
        "author",
        "approved_by",
        "approved_at",
        "created_at",
    ]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.approval_state in _SETTLED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.approval_state in _SETTLED:
            return False
        return super().has_delete_permission(request, obj)
