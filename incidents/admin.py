from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from crisisdesk.admin_audit import AppendOnlyAdmin, AuditedAdmin
from incidents.lifecycle.transitions import LIFECYCLE_FIELDS
from incidents.models import (
    ActionItem,
    Draft,
    DraftStatus,
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
from incidents.notifications.channels import DeliveryError, get_channel

_SETTLED_DRAFTS = (DraftStatus.APPROVED, DraftStatus.PUBLISHED)


class NotificationChannelAdminForm(forms.ModelForm):
    """The channel plug-in checks the config here too (e.g. a webhook on a private address is refused)."""

    def clean(self):
        data = super().clean() or {}
        kind, config = data.get("kind"), data.get("config")
        if kind and isinstance(config, dict):
            try:
                data["config"] = get_channel(kind).validate_config(config)
            except (DeliveryError, ValidationError) as exc:
                self.add_error("config", getattr(exc, "messages", None) or str(exc))
        return data


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
class IncidentAdmin(AuditedAdmin):
    """Status changes belong on the incident page (they write timeline and audit rows)."""

    list_display = ["id", "title", "watch", "severity", "status", "owner", "detected_at"]
    list_filter = ["status", "severity", "watch"]
    search_fields = ["title", "summary"]
    list_select_related = ["watch", "owner"]
    date_hierarchy = "detected_at"
    readonly_fields = [*LIFECYCLE_FIELDS, "severity", "owner", "detected_at", "escalation_tier", "updated_at"]
    raw_id_fields = ["watch", "scenario", "playbook"]
    inlines = [TimelineInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TimelineEvent)
class TimelineEventAdmin(AppendOnlyAdmin):
    list_display = ["at", "incident", "phase", "kind", "actor", "text"]
    list_filter = ["phase", "kind"]
    search_fields = ["text"]
    list_select_related = ["incident", "actor"]


@admin.register(Task)
class TaskAdmin(AuditedAdmin):
    list_display = ["title", "incident", "phase", "role_name", "due_at", "completed_at"]
    list_filter = ["phase"]
    list_select_related = ["incident"]


@admin.register(Draft)
class DraftAdmin(AuditedAdmin):
    """An approved or published draft is exactly what a second person approved: read-only here."""

    list_display = ["__str__", "incident", "kind", "language", "status", "author", "approver", "published_at"]
    list_filter = ["status", "kind", "language"]
    list_select_related = ["incident", "author", "approver"]
    readonly_fields = ["status", "author", "approver", "approved_at", "published_at", "published_by"]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status in _SETTLED_DRAFTS:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status in _SETTLED_DRAFTS:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Evidence)
class EvidenceAdmin(AppendOnlyAdmin):
    """Evidence is captured from a mention on the incident page (its SHA-256 computed there)."""

    list_display = ["incident", "author", "captured_at", "sha256"]
    list_select_related = ["incident"]


@admin.register(Reply)
class ReplyAdmin(AuditedAdmin):
    list_display = ["incident", "mention", "replied_by", "replied_at"]
    list_select_related = ["incident", "replied_by"]
    raw_id_fields = ["mention"]


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0


@admin.register(Review)
class ReviewAdmin(AuditedAdmin):
    list_display = ["incident", "author", "updated_at"]
    inlines = [ActionItemInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdmin):
    list_display = ["incident", "role_name", "user", "assigned_at"]
    list_select_related = ["incident", "user"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(AuditedAdmin):
    form = NotificationChannelAdminForm
    list_display = ["name", "kind", "min_severity", "tier", "is_active"]
    list_filter = ["kind", "is_active", "tier"]
    exclude = ["secret"]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(AppendOnlyAdmin):
    """The delivery log. Its channel cannot be deleted here while it has deliveries (they would go too)."""

    list_display = ["created_at", "channel", "incident", "event", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["channel", "incident"]
