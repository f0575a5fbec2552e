"""Playbooks REST API (read-only): scenarios, playbooks with roles and checklist, message templates.

Every role with ``VIEW_PLAYBOOKS`` reads every approval state of a template: knowing what awaits
approval is part of preparing. Anonymous requests get 401 (Basic is offered first).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics
from rest_framework.authentication import BasicAuthentication, SessionAuthentication

from crisisdesk.roles import VIEW_PLAYBOOKS, api_permission
from playbooks import selectors
from playbooks.api.serializers import MessageTemplateSerializer, PlaybookSerializer, ScenarioSerializer
from playbooks.models import (
    ApprovalState,
    MessageTemplate,
    Playbook,
    PlaybookStatus,
    Scenario,
    ScenarioType,
    TemplateKind,
)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """Whole numbers within a 64-bit id's range (SQLite raises OverflowError, a 500, beyond it)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class _PlaybooksApi(generics.GenericAPIView):
    # Basic first: its WWW-Authenticate header turns "not signed in" into a 401 instead of a 403.
    authentication_classes = [BasicAuthentication, SessionAuthentication]
    permission_classes = [api_permission(VIEW_PLAYBOOKS)]


class ScenarioListApi(_PlaybooksApi, generics.ListAPIView):
    """Scenarios the team has prepared for (the ids a watch's ``default_scenario`` takes)."""

    serializer_class = ScenarioSerializer
    queryset = Scenario.objects.order_by("name", "id")
    filter_backends: list = []


class PlaybookFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PlaybookStatus.choices)
    scenario = django_filters.ChoiceFilter(field_name="scenario__type", choices=ScenarioType.choices)

    class Meta:
        model = Playbook
        fields = ["status", "scenario"]


class PlaybookListApi(_PlaybooksApi, generics.ListAPIView):
    """Every playbook version by scenario, newest version first, with crisis roles and checklist."""

    serializer_class = PlaybookSerializer
    filterset_class = PlaybookFilter

    def get_queryset(self) -> QuerySet[Playbook]:
        return selectors.playbooks_with_structure()


class PlaybookDetailApi(_PlaybooksApi, generics.RetrieveAPIView):
    serializer_class = PlaybookSerializer

    def get_queryset(self) -> QuerySet[Playbook]:
        return selectors.playbooks_with_structure()


class MessageTemplateFilter(django_filters.FilterSet):
    playbook = IdFilter(field_name="playbook_id", label="Playbook id.")
    kind = django_filters.ChoiceFilter(choices=TemplateKind.choices)
    language = django_filters.CharFilter(max_length=8)
    channel = django_filters.CharFilter(max_length=40)
    approval_state = django_filters.ChoiceFilter(choices=ApprovalState.choices)
    family = django_filters.UUIDFilter()

    class Meta:
        model = MessageTemplate
        fields = ["playbook", "kind", "language", "channel", "approval_state", "family"]


class MessageTemplateListApi(_PlaybooksApi, generics.ListAPIView):
    """Message templates in every approval state; ``?approval_state=approved`` for the usable ones."""

    serializer_class = MessageTemplateSerializer
    filterset_class = MessageTemplateFilter
    queryset = MessageTemplate.objects.select_related("author", "approved_by").order_by(
        "playbook_id", "kind", "language", "channel", "family", "-version"
    )


class MessageTemplateDetailApi(_PlaybooksApi, generics.RetrieveAPIView):
    serializer_class = MessageTemplateSerializer
    queryset = MessageTemplate.objects.select_related("author", "approved_by")
