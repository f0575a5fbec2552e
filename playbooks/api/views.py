"""Playbooks REST API (read-only): scenarios, playbooks with roles and checklist, message templates.

Every role with ``VIEW_PLAYBOOKS`` reads every approval state of a template: knowing what awaits
approval is part of preparing. Anonymous requests get 401 (Basic is offered first).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from rest_framework import generics
from rest_framework.authentication import BasicAuthentication, SessionAuthentication

from crisisdesk.api_filters import ChannelFilter, ChoiceFilter, IdFilter, LanguageFilter, UUIDFilter
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
    status = ChoiceFilter(choices=PlaybookStatus.choices)
    scenario = ChoiceFilter(field_name="scenario__type", choices=ScenarioType.choices)

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
    kind = ChoiceFilter(choices=TemplateKind.choices)
    language = LanguageFilter()
    channel = ChannelFilter()
    approval_state = ChoiceFilter(choices=ApprovalState.choices)
    family = UUIDFilter()

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
