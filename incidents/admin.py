from __future__ import annotations

from django.contrib import admin

from incidents.models import (
    ActionItem,
    Draft,
    Evidence,
    Incident,
    NotificationChannel,
    NotificationDelivery,
    Reply,
    Review,
    RoleAssignment,
    Task,
    TimelineEvent,
)


class TimelineInline(admin.TabularInline):
    """Append-only: shown, never edited here."""

    model = TimelineEvent
    extra = 0
    fields = ("at", "phase", "kind", "actor", "text")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Status changes belong on the incident page (they write timeline and audit rows)."""

    list_display = ["id", "title", "watch", "severity", "status", "owner", "detected_at"]
    list_filter = ["status", "severity", "watch"]
    search_fields = ["title", "summary"]
    list_select_related = ["watch", "owner"]
    date_hierarchy = "detected_at"
    readonly_fields = [
        "status", "severity", "owner", "detected_at", "acknowledged_at", "acknowledged_by", "responding_at",
        "monitoring_at", "resolved_at", "resolved_by", "closed_at", "closed_by", "escalation_tier", "updated_at",
    ]
    raw_id_fields = ["watch", "scenario", "playbook"]
    inlines = [TimelineInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ["at", "incident", "phase", "kind", "actor", "text"]
    list_filter = ["phase", "kind"]
    search_fields = ["text"]
    list_select_related = ["incident", "actor"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "incident", "phase", "role_name", "due_at", "completed_at"]
    list_filter = ["phase"]
    list_select_related = ["incident"]


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["__str__", "incident", "kind", "language", "status", "author", "approver", "published_at"]
    list_filter = ["status", "kind", "language"]
    list_select_related = ["incident", "author", "approver"]
    readonly_fields = ["status", "approver", "approved_at", "published_at", "published_by"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["incident", "author", "captured_at", "sha256"]
    list_select_related = ["incident"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ["incident", "mention", "replied_by", "replied_at"]
    list_select_related = ["incident", "replied_by"]
    raw_id_fields = ["mention"]


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["incident", "author", "updated_at"]
    inlines = [ActionItemInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["incident", "role_name", "user", "assigned_at"]
    list_select_related = ["incident", "user"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "min_severity", "tier", "is_active"]
    list_filter = ["kind", "is_active", "tier"]
    exclude = ["secret"]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "incident", "event", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["channel", "incident"]
