"""API shapes for incidents. Read-only; writes go through the action endpoints and the services."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import Incident, Status, TimelineEvent


class IncidentSerializer(serializers.ModelSerializer):
    watch = serializers.CharField(source="watch.name", read_only=True)
    watch_id = serializers.IntegerField(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)
    signal_count = serializers.IntegerField(read_only=True, required=False)
    mention_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Incident
        fields = [
            "id", "title", "watch", "watch_id", "severity", "status", "owner", "scenario_hint",
            "first_signal_at", "detected_at", "acknowledged_at", "responding_at", "monitoring_at",
            "resolved_at", "closed_at", "signal_count", "mention_count",
        ]
        read_only_fields = fields


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, default=None)

    class Meta:
        model = TimelineEvent
        fields = ["id", "phase", "kind", "at", "actor", "text", "links"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", read_only=True, default=None)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, default=None)
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, default=None)
    timeline = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "acknowledged_by", "resolved_by", "closed_by", "timeline"]
        read_only_fields = fields

    def get_timeline(self, incident: Incident) -> list[dict]:
        events = incident.timeline.select_related("actor").order_by("at", "id")
        return TimelineEventSerializer(events, many=True).data


class TransitionInputSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class NoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
