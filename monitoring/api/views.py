"""Monitoring REST API: reads for every role (watches, sources, mentions, signals, rules) and the
managers' watch and rule writes, which go through the same services as the pages.

Mentions are read-only on purpose: the transparency policy says no user ever deletes or hides one.
Anonymous requests get 401 (Basic is offered first so a client knows how to sign in); a role that
may read but not write gets 403. What a service refuses reaches ``crisisdesk.api_errors``: a field
error is a 400 naming the field, a refusal (a rule that fired) a 409.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crisisdesk.roles import MANAGE_MONITORING, VIEW_MONITORING, api_permission
from crisisdesk.types import MemberApiRequest
from monitoring.api.filters import MentionFilter, RuleFilter, SignalFilter, SourceFilter, WatchFilter
from monitoring.api.selectors import (
    mention_queryset,
    rule_queryset,
    signal_queryset,
    source_queryset,
    watch_queryset,
)
from monitoring.api.serializers import (
    MentionSerializer,
    RuleInputSerializer,
    RuleSerializer,
    SignalSerializer,
    SourceSerializer,
    WatchInputSerializer,
    WatchSerializer,
)
from monitoring.explorer.search import UNINDEXED_TIME
from monitoring.models import Mention, Rule, Signal, Source, Watch
from monitoring.setup import services

# Basic first: its WWW-Authenticate header turns "not signed in" into a 401 instead of a 403.
API_AUTHENTICATION = [BasicAuthentication, SessionAuthentication]
MonitoringPermission = api_permission(VIEW_MONITORING, MANAGE_MONITORING)


class _MonitoringApi(generics.GenericAPIView):
    authentication_classes = API_AUTHENTICATION
    permission_classes = [MonitoringPermission]


# --- Watches ----------------------------------------------------------------------------------------


class WatchListApi(_MonitoringApi, generics.ListAPIView):
    """Watches by name, with mentions and negative mentions over the last 24 hours."""

    serializer_class = WatchSerializer
    filterset_class = WatchFilter

    def get_queryset(self) -> QuerySet[Watch]:
        return watch_queryset()

    @extend_schema(
        request=WatchInputSerializer,
        responses={201: WatchSerializer, 400: OpenApiResponse(description="A field is invalid (named).")},
        summary="Create a watch (managers)",
        description="Runs the same service as the watch page; by default adds one rule of every kind.",
    )
    def post(self, request: MemberApiRequest) -> Response:
        payload = WatchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        data.pop("is_active", None)  # a new watch starts active
        try:
            watch = services.watch_create(by=request.user, **data)
        except IntegrityError as error:  # a concurrent create won the unique name
            raise serializers.ValidationError({"name": ["A watch with this name exists."]}) from error
        return Response(
            WatchSerializer(watch_queryset().get(pk=watch.pk)).data, status=status.HTTP_201_CREATED
        )


class WatchDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = WatchSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Watch]:
        return watch_queryset()

    @extend_schema(
        request=WatchInputSerializer,
        responses={200: WatchSerializer, 400: OpenApiResponse(description="A field is invalid (named).")},
        summary="Change a watch (managers)",
    )
    def patch(self, request: MemberApiRequest, pk: int) -> Response:
        watch = get_object_or_404(Watch, pk=pk)
        payload = WatchInputSerializer(data=request.data, partial=True, watch=watch)
        payload.is_valid(raise_exception=True)
        try:
            services.watch_update(watch=watch, by=request.user, **payload.validated_data)
        except IntegrityError as error:
            raise serializers.ValidationError({"name": ["A watch with this name exists."]}) from error
        return Response(WatchSerializer(watch_queryset().get(pk=pk)).data)


# --- Sources ----------------------------------------------------------------------------------------


class SourceListApi(_MonitoringApi, generics.ListAPIView):
    """Sources and their health (never the webhook secret, the cursor or a credential in the config)."""

    serializer_class = SourceSerializer
    filterset_class = SourceFilter

    def get_queryset(self) -> QuerySet[Source]:
        return source_queryset()


class SourceDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = SourceSerializer

    def get_queryset(self) -> QuerySet[Source]:
        return source_queryset()


# --- Mentions ---------------------------------------------------------------------------------------


class MentionPagination(CursorPagination):
    """Newest first. A cursor (not page numbers) because mentions keep arriving during a crisis:
    page 2 never repeats or skips rows that came in while page 1 was read, and no COUNT(*) runs."""

    ordering = ("-published_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request: Any, queryset: QuerySet[Mention], view: Any) -> tuple[str, ...]:
        """The same order; for a rare search through the alias ``MentionFilter`` adds (the same
        values, which no index serves: see ``monitoring.explorer.search.newest_first``)."""
        if UNINDEXED_TIME in queryset.query.annotations:
            return (f"-{UNINDEXED_TIME}", "-id")
        return tuple(self.ordering)

    def get_page_size(self, request: Request) -> int:
        """DRF falls back to the default page size on ``?page_size=abc`` or ``0``; here that is a
        400 naming the parameter. Above ``max_page_size`` is the maximum, as documented."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise serializers.ValidationError(
                {self.page_size_query_param: [_("Give a whole number from 1.")]}
            )
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = _("Mentions per page, 1 to %(max)s (more is %(max)s).") % {
                    "max": self.max_page_size
                }
        return parameters


class MentionListApi(_MonitoringApi, generics.ListAPIView):
    """Mentions, newest first. Read-only: mentions are never deleted or hidden by a user."""

    serializer_class = MentionSerializer
    filterset_class = MentionFilter
    pagination_class = MentionPagination

    def get_queryset(self) -> QuerySet[Mention]:
        return mention_queryset()


class MentionDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = MentionSerializer

    def get_queryset(self) -> QuerySet[Mention]:
        return mention_queryset()


# --- Signals ----------------------------------------------------------------------------------------


class SignalListApi(_MonitoringApi, generics.ListAPIView):
    """Rule breaches, newest first, with what a responder needs first in ``summary``."""

    serializer_class = SignalSerializer
    filterset_class = SignalFilter

    def get_queryset(self) -> QuerySet[Signal]:
        return signal_queryset()


class SignalDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = SignalSerializer

    def get_queryset(self) -> QuerySet[Signal]:
        return signal_queryset()


# --- Rules ------------------------------------------------------------------------------------------


class RuleListApi(_MonitoringApi, generics.ListAPIView):
    """Detection rules by watch and name; managers add one with POST."""

    serializer_class = RuleSerializer
    filterset_class = RuleFilter

    def get_queryset(self) -> QuerySet[Rule]:
        return rule_queryset()

    @extend_schema(
        request=RuleInputSerializer,
        responses={201: RuleSerializer, 400: OpenApiResponse(description="A field is invalid (named).")},
        summary="Add a detection rule to a watch (managers)",
        description="Bounds match the rules page; ``params`` must fit the rule's kind.",
    )
    def post(self, request: MemberApiRequest) -> Response:
        payload = RuleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        watch = fields.pop("watch")
        try:
            rule = services.rule_create(watch=watch, by=request.user, **fields)
        except IntegrityError as error:
            raise serializers.ValidationError(
                {"name": ["This watch already has a rule with this name."]}
            ) from error
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = RuleSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Rule]:
        return rule_queryset()

    @extend_schema(
        request=RuleInputSerializer,
        responses={200: RuleSerializer, 400: OpenApiResponse(description="A field is invalid (named).")},
        summary="Change a rule's thresholds (managers)",
    )
    def patch(self, request: MemberApiRequest, pk: int) -> Response:
        rule = get_object_or_404(Rule.objects.select_related("watch"), pk=pk)
        payload = RuleInputSerializer(data=request.data, partial=True, rule=rule)
        payload.is_valid(raise_exception=True)
        try:
            rule = services.rule_update(rule=rule, by=request.user, **payload.validated_data)
        except IntegrityError as error:
            raise serializers.ValidationError(
                {"name": ["This watch already has a rule with this name."]}
            ) from error
        return Response(RuleSerializer(rule).data)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(description="The rule has fired before: deactivate it instead."),
        },
        summary="Delete a rule that never fired (managers)",
    )
    def delete(self, request: MemberApiRequest, pk: int) -> Response:
        services.rule_delete(rule=get_object_or_404(Rule, pk=pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
