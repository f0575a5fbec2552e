"""Incident API: read incidents, and acknowledge/resolve/transition them through the same services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crisisdesk.api_filters import ID_SCHEMA, MAX_ID
from crisisdesk.roles import TRIAGE_INCIDENTS, VIEW_INCIDENTS, api_permission
from crisisdesk.types import Member, MemberApiRequest
from incidents.api.serializers import (
    IncidentDetailSerializer,
    IncidentSerializer,
    NoteInputSerializer,
    TransitionInputSerializer,
)
from incidents.lifecycle import selectors, services
from incidents.models import Incident, Severity, Status


@extend_schema(
    parameters=[
        OpenApiParameter(
            "status",
            str,
            enum=[*selectors.STATUS_FILTERS, *Status.values],
            description=_("open (the default), closed, all, or one status."),
        ),
        OpenApiParameter("severity", int, enum=Severity.values, description=_("1 (SEV1) to 4 (SEV4).")),
        OpenApiParameter("watch", ID_SCHEMA, description=_("A watch's id.")),
    ]
)
class IncidentListApi(generics.ListAPIView):
    """Incidents, open first then newest. Filters: ``status`` (open/closed/all/<status>), ``severity``, ``watch``."""

    serializer_class = IncidentSerializer
    permission_classes = [api_permission(VIEW_INCIDENTS)]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Incident]:
        params = self.request.query_params
        status_filter = params.get("status", "open")
        if status_filter not in (*selectors.STATUS_FILTERS, *Status.values):
            raise serializers.ValidationError(
                {"status": _("Unknown status filter “%(value)s”.") % {"value": status_filter}}
            )
        numbers: dict[str, int | None] = {}
        for name in ("severity", "watch"):
            raw = params.get(name)
            if raw is None:
                numbers[name] = None
                continue
            try:
                number = int(raw)
            except ValueError:
                raise serializers.ValidationError({name: _("Must be a whole number.")}) from None
            if name == "severity" and number not in Severity.values:
                raise serializers.ValidationError({name: _("Must be 1 (SEV1) to 4 (SEV4).")})
            if not 1 <= number <= MAX_ID:
                raise serializers.ValidationError(
                    {name: _("Must be between 1 and %(max)s.") % {"max": MAX_ID}}
                )
            numbers[name] = number
        return selectors.incident_list(
            status=status_filter, severity=numbers["severity"], watch_id=numbers["watch"], limit=None
        )

    def paginate_queryset(self, queryset: QuerySet[Any, Any]) -> list[Any] | None:
        """The page, with its signal and mention counts (two queries over the page's rows)."""
        page = super().paginate_queryset(queryset)
        return None if page is None else selectors.with_counts(page)


class IncidentDetailApi(generics.RetrieveAPIView):
    serializer_class = IncidentDetailSerializer
    permission_classes = [api_permission(VIEW_INCIDENTS)]
    queryset = Incident.objects.select_related(
        "watch", "owner", "acknowledged_by", "resolved_by", "closed_by"
    )


class _IncidentActionApi(APIView):
    """POST-only action on one incident. A refused move (``TransitionError``) answers 409 with the
    reason and the incident's status, a bad value 400: ``crisisdesk.api_errors`` translates both."""

    permission_classes = [api_permission(VIEW_INCIDENTS, TRIAGE_INCIDENTS)]
    input_serializer: type[serializers.Serializer] = NoteInputSerializer

    def perform(self, incident: Incident, data: dict[str, Any], user: Member) -> Incident:
        raise NotImplementedError

    def post(self, request: MemberApiRequest, pk: int) -> Response:
        incident = get_object_or_404(Incident, pk=pk)
        payload = self.input_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident = self.perform(incident, payload.validated_data, request.user)
        incident = selectors.incident_get(incident.pk)
        return Response(IncidentDetailSerializer(incident).data)


# The refusal body names the incident's status (``crisisdesk.api_errors``); the rest is documented
# around every view by crisisdesk.api_schema.
REFUSED_MOVE = OpenApiResponse(
    description=_("The lifecycle refuses this move from the incident's current status (named).")
)
ACTION_RESPONSES = {200: IncidentDetailSerializer, 409: REFUSED_MOVE}


@extend_schema(request=NoteInputSerializer, responses=ACTION_RESPONSES)
class IncidentAcknowledgeApi(_IncidentActionApi):
    def perform(self, incident: Incident, data: dict[str, Any], user: Member) -> Incident:
        return services.incident_acknowledge(incident=incident, by=user)


@extend_schema(request=NoteInputSerializer, responses=ACTION_RESPONSES)
class IncidentResolveApi(_IncidentActionApi):
    def perform(self, incident: Incident, data: dict[str, Any], user: Member) -> Incident:
        return services.incident_resolve(incident=incident, by=user, note=data.get("note", ""))


@extend_schema(request=TransitionInputSerializer, responses=ACTION_RESPONSES)
class IncidentTransitionApi(_IncidentActionApi):
    input_serializer = TransitionInputSerializer

    def perform(self, incident: Incident, data: dict[str, Any], user: Member) -> Incident:
        return services.incident_transition(
            incident=incident, to_status=data["to_status"], by=user, note=data.get("note", "")
        )
