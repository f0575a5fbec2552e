"""API shapes for incidents. Read-only; writes go through the action endpoints and the services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidents.models import Incident, Status, TimelineEvent


class IncidentSerializer(serializers.ModelSerializer):
    watch = serializers.CharField(source="watch.name", read_only=True)
    watch_id = serializers.IntegerField(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None, allow_null=True)
    signal_count = serializers.SerializerMethodField()
    mention_count = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "watch",
            "watch_id",
            "severity",
            "status",
            "owner",
            "scenario_hint",
            "first_signal_at",
            "detected_at",
            "acknowledged_at",
            "responding_at",
            "monitoring_at",
            "resolved_at",
            "closed_at",
            "signal_count",
            "mention_count",
        ]
        read_only_fields = fields

    # The list annotates both counts in its one query; a single incident counts them here.
    def get_signal_count(self, incident: Incident) -> int:
        counted = getattr(incident, "signal_count", None)
        return counted if counted is not None else incident.signals.count()

    def get_mention_count(self, incident: Incident) -> int:
        counted = getattr(incident, "mention_count", None)
        return counted if counted is not None else incident.mentions.count()


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "phase", "kind", "at", "actor", "text", "links"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, default=None, allow_null=True
    )
    resolved_by = serializers.CharField(
        source="resolved_by.username", read_only=True, default=None, allow_null=True
    )
    closed_by = serializers.CharField(
        source="closed_by.username", read_only=True, default=None, allow_null=True
    )
    timeline = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "acknowledged_by", "resolved_by", "closed_by", "timeline"]
        read_only_fields = fields

    def get_timeline(self, incident: Incident) -> list[dict[str, Any]]:
        events = incident.timeline.select_related("actor").order_by("at", "id")
        # The stubs type ``.data`` as Serializer's ReturnDict even with many=True, where DRF hands
        # back a ListSerializer whose ``.data`` is a ReturnList (a list of dicts).
        return TimelineEventSerializer(events, many=True).data  # type: ignore[return-value]


class TransitionInputSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class NoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
