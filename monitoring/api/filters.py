"""Query filters of the monitoring REST API: strict, so a bad value is a 400 naming the field.

django-filter's own number and boolean filters silently ignore what they cannot read (``?watch=acme``
would list every watch's mentions); these refuse it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crisisdesk.api_filters import MAX_ID, ChoiceFilter, IdFilter, LanguageFilter, RefusesEmpty, text_filter
from monitoring.explorer.search import (
    SEARCH_MAX_LENGTH,
    UNINDEXED_TIME,
    MentionQuery,
    is_rare_search,
    search_mentions,
    unindexed_time,
)
from monitoring.models import (
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


class _IsoDateTimeField(RefusesEmpty, django_filters.fields.IsoDateTimeField):
    pass


@extend_schema_field(OpenApiTypes.DATETIME)
class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time compared in UTC. Python accepts offsets up to ±23:59; PostgreSQL refuses
    a literal past ±15:59 (a 500 before), so the value is converted before it reaches the query."""

    field_class = _IsoDateTimeField

    def filter(self, qs: Any, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1})
class RiskFilter(django_filters.NumberFilter):
    """A risk score from 0 to 1; the schema says so (django-filter's own is an untyped parameter
    when it filters through a method)."""


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_ID})
class WholeNumberFilter(django_filters.NumberFilter):
    """A count (``?min_reach=2.5`` is a 400 naming the field)."""

    field_class = forms.IntegerField


class _StrictBooleanField(RefusesEmpty, forms.Field):
    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValidationError("Use true or false.")


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    """true/false; anything else is a 400 naming the field (django-filter's own silently ignores it)."""

    field_class = _StrictBooleanField


class WatchFilter(django_filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = Watch
        fields = ["is_active"]


class SourceFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    kind = ChoiceFilter(choices=SourceKind.choices)
    health = ChoiceFilter(choices=SourceHealth.choices)
    is_active = BooleanFilter()

    class Meta:
        model = Source
        fields = ["watch", "kind", "health", "is_active"]


def _left_to_search(queryset: Any, name: str, value: Any) -> Any:
    """These filters are applied together by ``MentionFilter.filter_queryset`` through the explorer's
    search, so the API and the page find the same mentions."""
    return queryset


class MentionFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    source = IdFilter(field_name="source_id", label="Source id.")
    incident = IdFilter(field_name="incident_id", label="Incident id.")
    language = LanguageFilter()
    sentiment_label = ChoiceFilter(choices=SentimentLabel.choices)
    state = ChoiceFilter(choices=MentionState.choices)
    published_after = UtcIsoDateTimeFilter(
        field_name="published_at", lookup_expr="gte", label="Published at or after (ISO 8601)."
    )
    published_before = UtcIsoDateTimeFilter(
        field_name="published_at", lookup_expr="lt", label="Published before (ISO 8601)."
    )
    q = text_filter(SEARCH_MAX_LENGTH)(
        method=_left_to_search,
        label="Full-text search: every word must appear (English, Turkish and Indonesian words stemmed).",
    )
    min_risk = RiskFilter(method=_left_to_search, min_value=0, max_value=1, label="Risk at least (0 … 1).")
    min_reach = WholeNumberFilter(
        method=_left_to_search,
        min_value=0,
        max_value=MAX_ID,
        label="Author reach at least.",
    )
    author = text_filter(255)(method=_left_to_search, label="Author (case-insensitive).")
    is_own = BooleanFilter(method=_left_to_search, label="Posted by one of the watch's own accounts.")
    answered = BooleanFilter(method=_left_to_search, label="Some incident recorded a reply to it.")

    class Meta:
        model = Mention
        fields = [
            "watch",
            "source",
            "incident",
            "language",
            "sentiment_label",
            "state",
            "published_after",
            "published_before",
            "q",
            "min_risk",
            "min_reach",
            "author",
            "is_own",
            "answered",
        ]

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        min_risk = data.get("min_risk")
        min_reach = data.get("min_reach")
        query = MentionQuery(
            q=(data.get("q") or "").strip(),
            min_risk=float(min_risk) if min_risk is not None else None,
            min_reach=int(min_reach) if min_reach is not None else None,
            author=(data.get("author") or "").strip(),
            own=data.get("is_own"),
            answered=data.get("answered"),
        )
        mentions = search_mentions(query, queryset)
        if is_rare_search(query.q):
            # A rare word: the cursor pages order by this alias (see MentionPagination), so
            # PostgreSQL reads the few matches from the GIN index instead of walking the time index.
            mentions = mentions.annotate(**{UNINDEXED_TIME: unindexed_time()})
        return mentions


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


class RuleFilter(django_filters.FilterSet):
    watch = IdFilter(field_name="watch_id", label="Watch id.")
    kind = ChoiceFilter(choices=RuleKind.choices)
    is_active = BooleanFilter()

    class Meta:
        model = Rule
        fields = ["watch", "kind", "is_active"]
