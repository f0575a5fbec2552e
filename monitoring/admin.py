from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from crisisdesk.admin_audit import AppendOnlyAdmin, AuditedAdmin
from monitoring.models import Bucket, Mention, Rule, Signal, Source, Watch
from monitoring.sources import get_connector


class SourceAdminForm(forms.ModelForm):
    """The connector checks the config here too (e.g. a feed URL on a private address is refused)."""

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        kind, config = data.get("kind"), data.get("config")
        if kind and isinstance(config, dict):
            try:
                data["config"] = get_connector(kind).validate_config(config)
            except (KeyError, ValidationError) as exc:
                self.add_error("config", getattr(exc, "messages", [f"Unknown source kind {kind!r}."]))
        return data


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0
    fields = ["name", "kind", "is_active", "poll_interval", "health", "last_success_at"]
    readonly_fields = ["health", "last_success_at"]
    show_change_link = True


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 0
    fields = ["name", "kind", "is_active", "window_minutes", "min_count", "sensitivity", "severity"]
    show_change_link = True


@admin.register(Watch)
class WatchAdmin(AuditedAdmin):
    list_display = ["name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "description"]
    inlines = [SourceInline, RuleInline]


@admin.register(Source)
class SourceAdmin(AuditedAdmin):
    form = SourceAdminForm
    list_display = ["name", "watch", "kind", "is_active", "health", "last_success_at", "consecutive_failures"]
    list_filter = ["kind", "health", "is_active"]
    search_fields = ["name", "watch__name", "last_error"]
    list_select_related = ["watch"]
    readonly_fields = ["last_polled_at", "last_success_at", "last_mention_at", "last_error_at", "created_at"]


@admin.register(Mention)
class MentionAdmin(AppendOnlyAdmin):
    """Mentions are never edited or deleted by a user: transparency is the policy (read-only here)."""

    list_display = [
        "published_at",
        "watch",
        "author",
        "short_text",
        "language",
        "sentiment_label",
        "risk",
        "state",
    ]
    list_filter = ["state", "sentiment_label", "language", "watch"]
    search_fields = ["text", "author", "external_id"]
    list_select_related = ["watch"]
    raw_id_fields = ["source", "watch", "incident"]
    date_hierarchy = "published_at"

    @admin.display(description="text")
    def short_text(self, obj: Mention) -> str:
        return obj.text[:80]


@admin.register(Bucket)
class BucketAdmin(AuditedAdmin):
    list_display = ["watch", "start", "volume", "negative", "positive", "reach", "crisis_term_hits"]
    list_filter = ["watch"]
    date_hierarchy = "start"
    list_select_related = ["watch"]


@admin.register(Rule)
class RuleAdmin(AuditedAdmin):
    list_display = [
        "name",
        "watch",
        "kind",
        "is_active",
        "window_minutes",
        "min_count",
        "sensitivity",
        "severity",
        "last_fired_at",
    ]
    list_filter = ["kind", "is_active", "sensitivity"]
    search_fields = ["name", "watch__name"]
    list_select_related = ["watch"]


@admin.register(Signal)
class SignalAdmin(AuditedAdmin):
    list_display = [
        "detected_at",
        "rule",
        "watch",
        "observed",
        "expected",
        "severity",
        "incident",
        "processed_at",
    ]
    list_filter = ["severity", "watch"]
    list_select_related = ["rule", "rule__watch", "watch", "incident"]
    raw_id_fields = ["rule", "watch", "incident"]
    filter_horizontal = []
    exclude = ["mentions"]
    date_hierarchy = "detected_at"
