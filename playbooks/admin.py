from __future__ import annotations

from django.contrib import admin

from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
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
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "scenario", "version", "status", "updated_at"]
    list_filter = ["status", "scenario"]
    search_fields = ["name", "description"]
    list_select_related = ["scenario"]
    inlines = [CrisisRoleInline, ChecklistItemInline]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "playbook", "kind", "language", "channel", "version", "approval_state", "approved_by"]
    list_filter = ["approval_state", "kind", "language"]
    search_fields = ["title", "body"]
    list_select_related = ["playbook", "approved_by"]
    readonly_fields = ["family", "version", "approved_by", "approved_at", "created_at"]
