"""Monitoring REST API: reads for every role (watches, sources, mentions, signals, rules) and the
managers' watch and rule writes, which go through the same services as the pages.

Mentions are read-only on purpose: the transparency policy says no user ever deletes or hides one.
Anonymous requests get 401 (Basic is offered first so a client knows how to sign in); a role that
may read but not write gets 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from crisisdesk.roles import MANAGE_MONITORING, VIEW_MONITORING, api_permission
from monitoring.api_serializers import (
    MentionSerializer,
    RuleInputSerializer,
    RuleSerializer,
    SignalSerializer,
    SourceSerializer,
    WatchInputSerializer,
    WatchSerializer,
)
from monitoring.intake.buckets import bucket_start
from monitoring.models import (
    Bucket,
    Mention,
    MentionState,
    Rule,
    RuleKind,
    SentimentLabel,
    Signal,
    Source,
    SourceHealth,
    SourceKind,
    Watch,
)
from monitoring.setup import services

# Basic first: its WWW-Authenticate header turns "not signed in" into a 401 instead of a 403.
MAX_ID = 2**63 - 1  # ids are BigAutoField
API_AUTHENTICATION = [BasicAuthentication, SessionAuthentication]
MonitoringPermission = api_permission(VIEW_MONITORING, MANAGE_MONITORING)


def drf_errors(error: DjangoValidationError) -> dict[str, Any]:
    """A service's ValidationError as DRF's ``{"field": ["message"]}``."""
    if hasattr(error, "error_dict"):
        return {field: [m for e in errors for m in e.messages] for field, errors in error.error_dict.items()}
    return {"non_field_errors": error.messages}


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id filter: whole numbers only (``?watch=1.5`` or ``?watch=acme`` is a 400 naming the field), and
    within a 64-bit id's range: SQLite raises OverflowError (a 500) on a larger number."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class _StrictBooleanField(forms.Field):
    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise DjangoValidationError("Use true or false.")


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    """true/false; anything else is a 400 naming the field (django-filter's own silently ignores it)."""

    field_class = _StrictBooleanField


class _MonitoringApi(generics.GenericAPIView):
    authentication_classes = API_AUTHENTICATION
    permission_classes = [MonitoringPermission]


# --- Watches ----------------------------------------------------------------------------------------


def watch_queryset(*, now: Any = None) -> QuerySet[Watch]:
    """Watches with their last-24-hour volume and negative counts and source count, one query."""
    since = bucket_start((now or timezone.now()) - timedelta(hours=24))

    def bucket_sum(field: str) -> Coalesce:
        rows = (
            Bucket.objects.filter(watch=OuterRef("pk"), start__gte=since)
            .order_by()
            .values("watch")
            .annotate(total=Sum(field))
            .values("total")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    sources = Source.objects.filter(watch=OuterRef("pk")).order_by().values("watch").annotate(n=Count("*")).values("n")
    return Watch.objects.annotate(
        volume_24h=bucket_sum("volume"),
        negative_24h=bucket_sum("negative"),
        source_count=Coalesce(Subquery(sources, output_field=IntegerField()), Value(0)),
    ).order_by("name")


class WatchFilter(django_filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = Watch
        fields = ["is_active"]


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
    def post(self, request: Request) -> Response:
        payload = WatchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        data.pop("is_active", None)  # a new watch starts active
        try:
            watch = services.watch_create(by=request.user, **data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(drf_errors(error)) from error
        except IntegrityError as error:  # a concurrent create won the unique name
            raise serializers.ValidationError({"name": ["A watch with this name exists."]}) from error
        return Response(WatchSerializer(watch_queryset().get(pk=watch.pk)).data, status=status.HTTP_201_CREATED)


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
    def patch(self, request: Request, pk: int) -> Response:
        watch = get_object_or_404(Watch, pk=pk)
        payload = WatchInputSerializer(data=request.data, partial=True, watch=watch)
        payload.is_valid(raise_exception=True)
        try:
            services.watch_update(watch=watch, by=request.user, **payload.validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(drf_errors(error)) from error
        except IntegrityError as error:
            raise serializers.ValidationError({"name": ["A watch with this name exists."]}) from error
        return Response(WatchSerializer(watch_queryset().get(pk=pk)).data)


# --- Sources ----------------------------------------------------------------------------------------


class SourceFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices)
    health = django_filters.ChoiceFilter(choices=SourceHealth.choices)
    is_active = BooleanFilter()

    class Meta:
        model = Source
        fields = ["watch", "kind", "health", "is_active"]


def source_queryset() -> QuerySet[Source]:
    # The secret and the cursor are nobody's business outside the intake and the poller: never loaded.
    return Source.objects.defer("cursor", "secret").order_by("watch_id", "name", "id")


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


class MentionFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    source = IdFilter(field_name="source_id", label="Source id.")
    incident = IdFilter(field_name="incident_id", label="Incident id.")
    language = django_filters.CharFilter(max_length=8)
    sentiment_label = django_filters.ChoiceFilter(choices=SentimentLabel.choices)
    state = django_filters.ChoiceFilter(choices=MentionState.choices)
    published_after = django_filters.IsoDateTimeFilter(
        field_name="published_at", lookup_expr="gte", label="Published at or after (ISO 8601)."
    )
    published_before = django_filters.IsoDateTimeFilter(
        field_name="published_at", lookup_expr="lt", label="Published before (ISO 8601)."
    )

    class Meta:
        model = Mention
        fields = [
            "watch", "source", "incident", "language", "sentiment_label", "state", "published_after",
            "published_before",
        ]


class MentionPagination(CursorPagination):
    """Newest first. A cursor (not page numbers) because mentions keep arriving during a crisis:
    page 2 never repeats or skips rows that came in while page 1 was read, and no COUNT(*) runs."""

    ordering = ("-published_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class MentionListApi(_MonitoringApi, generics.ListAPIView):
    """Mentions, newest first. Read-only: mentions are never deleted or hidden by a user."""

    serializer_class = MentionSerializer
    filterset_class = MentionFilter
    pagination_class = MentionPagination
    queryset = Mention.objects.select_related("source").defer("raw", "source__config", "source__cursor")


class MentionDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = MentionSerializer
    queryset = Mention.objects.select_related("source").defer("raw", "source__config", "source__cursor")


# --- Signals ----------------------------------------------------------------------------------------


class SignalFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    rule = IdFilter(field_name="rule_id", label="Rule id.")
    incident = IdFilter(field_name="incident_id", label="Incident id.")
    processed = BooleanFilter(
        field_name="processed_at", lookup_expr="isnull", exclude=True, label="Escalated already (true/false)."
    )

    class Meta:
        model = Signal
        fields = ["watch", "rule", "incident", "processed"]


def signal_queryset() -> QuerySet[Signal]:
    through = Signal.mentions.through
    counts = through.objects.filter(signal=OuterRef("pk")).order_by().values("signal").annotate(n=Count("*")).values("n")
    return (
        Signal.objects.select_related("rule")
        .only(*[f.name for f in Signal._meta.concrete_fields], "rule__name", "rule__kind")
        .annotate(mention_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))
        .order_by("-detected_at", "-id")
    )


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


class RuleFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    kind = django_filters.ChoiceFilter(choices=RuleKind.choices)
    is_active = BooleanFilter()

    class Meta:
        model = Rule
        fields = ["watch", "kind", "is_active"]


class RuleListApi(_MonitoringApi, generics.ListAPIView):
    """Detection rules by watch and name; managers add one with POST."""

    serializer_class = RuleSerializer
    filterset_class = RuleFilter
    queryset = Rule.objects.order_by("watch_id", "name", "id")

    @extend_schema(
        request=RuleInputSerializer,
        responses={201: RuleSerializer, 400: OpenApiResponse(description="A field is invalid (named).")},
        summary="Add a detection rule to a watch (managers)",
        description="Bounds match the rules page; ``params`` must fit the rule's kind.",
    )
    def post(self, request: Request) -> Response:
        payload = RuleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        watch = fields.pop("watch")
        try:
            rule = services.rule_create(watch=watch, by=request.user, **fields)
        except DjangoValidationError as error:
            raise serializers.ValidationError(drf_errors(error)) from error
        except IntegrityError as error:
            raise serializers.ValidationError({"name": ["This watch already has a rule with this name."]}) from error
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(_MonitoringApi, generics.RetrieveAPIView):
    serializer_class = RuleSerializer
    queryset = Rule.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(
        request=RuleInputSerializer,
        responses={200: RuleSerializer, 400: OpenApiResponse(description="A field is invalid (named).")},
        summary="Change a rule's thresholds (managers)",
    )
    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(Rule.objects.select_related("watch"), pk=pk)
        payload = RuleInputSerializer(data=request.data, partial=True, rule=rule)
        payload.is_valid(raise_exception=True)
        try:
            rule = services.rule_update(rule=rule, by=request.user, **payload.validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(drf_errors(error)) from error
        except IntegrityError as error:
            raise serializers.ValidationError({"name": ["This watch already has a rule with this name."]}) from error
        return Response(RuleSerializer(rule).data)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(description="The rule has fired before: deactivate it instead."),
        },
        summary="Delete a rule that never fired (managers)",
    )
    def delete(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(Rule, pk=pk)
        try:
            services.rule_delete(rule=rule, by=request.user)
        except DjangoValidationError as error:
            return Response({"detail": " ".join(error.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)
