"""API shapes for playbooks: scenarios, playbooks with their crisis roles and checklist, and message
templates (every approval state; none of it is secret). Read-only: playbook edits and template
approvals happen on the playbook pages, where the author ≠ approver rule is enforced."""

from __future__ import annotations

from rest_framework import serializers

from playbooks.models import ChecklistItem, CrisisRole, MessageTemplate, Playbook, Scenario


class ScenarioSerializer(serializers.ModelSerializer):
    trigger_terms = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        read_only=True,
        help_text='Terms per language, e.g. {"en": ["recall"], "tr": ["geri çağırma"]}.',
    )
    channels = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Scenario
        fields = ["id", "type", "name", "guidance", "engagement_approach", "trigger_terms", "channels"]
        read_only_fields = fields


class CrisisRoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = CrisisRole
        fields = ["id", "name", "responsibilities", "order"]
        read_only_fields = fields


class ChecklistItemSerializer(serializers.ModelSerializer):
    role_name = serializers.CharField(source="role.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "phase", "order", "title", "description", "role", "role_name", "due_offset_minutes"]
        read_only_fields = fields


class PlaybookSerializer(serializers.ModelSerializer):
    scenario = ScenarioSerializer(read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )
    roles = CrisisRoleSerializer(many=True, read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = [
            "id",
            "name",
            "description",
            "version",
            "status",
            "previous",
            "scenario",
            "created_by",
            "created_at",
            "updated_at",
            "roles",
            "checklist",
        ]
        read_only_fields = fields


class MessageTemplateSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, default=None, allow_null=True)
    approved_by = serializers.CharField(
        source="approved_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "playbook",
            "family",
            "version",
            "kind",
            "channel",
            "language",
            "title",
            "body",
            "approval_state",
            "author",
            "approved_by",
            "approved_at",
            "created_at",
        ]
        read_only_fields = fields
