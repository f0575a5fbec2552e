"""REST API shapes for monitoring reads (watches, sources, mentions, signals, rules) and the inputs of
the watch and rule writes. (The webhook's batch format is ``monitoring.intake.webhook``.)

Inputs carry the same bounds as the pages' forms (``monitoring/setup/forms.py``), so a value the rules page
refuses is refused here too; the writes themselves go through ``monitoring.setup.services``. Nothing here
ever exposes a source's ``secret``, its ``cursor`` or a credential inside its ``config``.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring.models import Mention, Rule, RuleKind, Sensitivity, Severity, Signal, Source, Watch
from monitoring.setup.forms import MAX_TERMS, RULE_PARAMS, RuleForm
from monitoring.setup.services import RULE_FIELDS, WATCH_FIELDS, is_secret_config_key, own_accounts_clean
from playbooks.models import Scenario

TERM_MAX = 100
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
MASK = "•••"


# --- Reads ------------------------------------------------------------------------------------------


class WatchSerializer(serializers.ModelSerializer):
    """A watch with its last-24-hour counts (summed from the 5-minute buckets)."""

    volume_24h = serializers.IntegerField(read_only=True, help_text="Mentions in the last 24 hours.")
    negative_24h = serializers.IntegerField(
        read_only=True, help_text="Negative mentions in the last 24 hours."
    )
    source_count = serializers.IntegerField(read_only=True)
    include_terms = serializers.ListField(child=serializers.CharField(), read_only=True)
    exclude_terms = serializers.ListField(child=serializers.CharField(), read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    own_accounts = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        read_only=True,
        help_text="The brand's own accounts per platform: their posts are marked is_own.",
    )

    class Meta:
        model = Watch
        fields = [
            "id",
            *WATCH_FIELDS,
            "created_at",
            "source_count",
            "volume_24h",
            "negative_24h",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.OBJECT)
class MaskedConfigField(serializers.Field):
    """A source's connector config with every credential-like key (secret, api_key, token, password)
    masked: the API says that one is set, never what it is."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            return {}
        return {
            key: (MASK if is_secret_config_key(str(key)) and item else item) for key, item in value.items()
        }


class SourceSerializer(serializers.ModelSerializer):
    """A source and its health. The webhook ``secret`` and the poll ``cursor`` are never part of it."""

    config = MaskedConfigField()

    class Meta:
        model = Source
        fields = [
            "id",
            "watch",
            "name",
            "kind",
            "config",
            "poll_interval",
            "is_active",
            "health",
            "last_error",
            "last_error_at",
            "consecutive_failures",
            "last_polled_at",
            "last_success_at",
            "last_mention_at",
            "next_poll_at",
            "created_at",
        ]
        read_only_fields = fields


class MentionSerializer(serializers.ModelSerializer):
    # Blank when the source gave no usable http(s) link, so a plain string rather than format: uri.
    url = serializers.CharField(read_only=True, help_text="The post's http(s) address, or empty.")
    source_name = serializers.CharField(source="source.name", read_only=True)
    crisis_terms = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Mention
        fields = [
            "id",
            "watch",
            "source",
            "source_name",
            "external_id",
            "url",
            "author",
            "author_reach",
            "engagement",
            "text",
            "language",
            "published_at",
            "fetched_at",
            "sentiment",
            "sentiment_label",
            "risk",
            "crisis_terms",
            "scenario_hint",
            "state",
            "scored_at",
            "is_own",
            "incident",
        ]
        read_only_fields = fields


class SignalSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    rule_kind = serializers.ChoiceField(source="rule.kind", choices=RuleKind.choices, read_only=True)
    mention_count = serializers.IntegerField(read_only=True)
    processed = serializers.SerializerMethodField()
    summary = serializers.DictField(
        read_only=True, help_text="Top terms, top authors, sample mentions, sentiment mix."
    )

    class Meta:
        model = Signal
        fields = [
            "id",
            "watch",
            "rule",
            "rule_name",
            "rule_kind",
            "detected_at",
            "window_start",
            "window_end",
            "observed",
            "expected",
            "score",
            "severity",
            "summary",
            "mention_count",
            "incident",
            "reason",
            "processed",
            "processed_at",
        ]
        read_only_fields = fields

    def get_processed(self, signal: Signal) -> bool:
        return signal.processed_at is not None


class RuleSerializer(serializers.ModelSerializer):
    params = serializers.DictField(read_only=True, help_text="Kind-specific thresholds.")

    class Meta:
        model = Rule
        fields = ["id", "watch", *RULE_FIELDS, "last_fired_at", "created_at"]
        read_only_fields = fields


# --- Watch writes -----------------------------------------------------------------------------------


class TermListField(serializers.ListField):
    """A list of terms: stripped, blanks and repeats dropped (order kept), each at most 100 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.CharField(max_length=TERM_MAX, allow_blank=True))
        kwargs.setdefault("max_length", MAX_TERMS)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        terms: list[str] = []
        for term in super().to_internal_value(data):
            term = term.strip()
            if term and term not in terms:
                terms.append(term)
        return terms


class WatchInputSerializer(serializers.Serializer):
    """What a manager may set on a watch (create: ``name`` and ``include_terms`` required)."""

    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    include_terms = TermListField(help_text="Any of these terms matches; at least one.")
    exclude_terms = TermListField(required=False, help_text="Mentions containing any of these are dropped.")
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3),
        required=False,
        max_length=50,
        help_text="ISO 639-1 codes such as en, tr, pl, id, ms; empty means any language.",
    )
    own_accounts = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=300), max_length=50),
        required=False,
        help_text='The brand\'s own accounts per platform (a source kind or "any"), e.g. {"any": ["@AcmeAir"]}.',
    )
    default_scenario = serializers.PrimaryKeyRelatedField(
        queryset=Scenario.objects.all(),
        required=False,
        allow_null=True,
        help_text="The scenario whose playbook is suggested when this watch opens an incident.",
    )
    is_active = serializers.BooleanField(required=False)
    with_default_rules = serializers.BooleanField(
        required=False,
        default=True,
        write_only=True,
        help_text="Create only: add one rule of every kind at the default thresholds.",
    )

    def __init__(self, *args: Any, watch: Watch | None = None, **kwargs: Any) -> None:
        self.watch = watch
        super().__init__(*args, **kwargs)
        if watch is not None:
            self.fields.pop("with_default_rules")  # only meaningful when the watch is created

    def validate_name(self, value: str) -> str:
        name = value.strip()
        if not name:
            raise serializers.ValidationError("This field may not be blank.")
        clash = Watch.objects.filter(name__iexact=name)
        if self.watch is not None:
            clash = clash.exclude(pk=self.watch.pk)
        if clash.exists():
            raise serializers.ValidationError("A watch with this name exists.")
        return name

    def validate_include_terms(self, value: list[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError("Give at least one term to match.")
        return value

    def validate_own_accounts(self, value: dict[str, list[str]]) -> dict[str, list[str]]:
        try:
            return own_accounts_clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["own_accounts"]) from None

    def validate_languages(self, value: list[str]) -> list[str]:
        codes: list[str] = []
        for code in (item.strip().lower() for item in value):
            if not _LANGUAGE.match(code):
                raise serializers.ValidationError(
                    f"Not a language code: {code!r} (use two letters, e.g. tr)."
                )
            if code not in codes:
                codes.append(code)
        return codes


# --- Rule writes ------------------------------------------------------------------------------------


def rule_params_clean(kind: str, params: Any) -> dict[str, Any]:
    """``params`` checked against the parameters ``kind`` reads, with the rules page's bounds.

    Raises a ValidationError naming the parameter (``{"z": [...]}``) for an unknown key or a bad value.
    """
    if not isinstance(params, dict):
        raise serializers.ValidationError("Must be an object of kind-specific thresholds.")
    allowed = RULE_PARAMS.get(kind, [])
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            errors[str(key)] = [f"Not a parameter of a {kind} rule (known: {known})."]
            continue
        if value is None or value == "":
            continue  # unset: the evaluator's default applies
        if isinstance(value, bool | dict | list):
            errors[key] = ["Must be a number." if key != "method" else "Must be a string."]
            continue
        try:
            cleaned[key] = RuleForm.base_fields[key].clean(value)  # the page's own bounds
        except DjangoValidationError as error:
            errors[key] = list(error.messages)
    if errors:
        raise serializers.ValidationError(errors)
    return cleaned


class RuleInputSerializer(serializers.Serializer):
    """A rule's settings. Bounds match the rules page; ``params`` must fit the rule's kind."""

    watch = serializers.PrimaryKeyRelatedField(queryset=Watch.objects.all(), help_text="Create only.")
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    is_active = serializers.BooleanField(required=False, default=True)
    window_minutes = serializers.IntegerField(
        min_value=5, max_value=24 * 60, required=False, default=15, help_text="A multiple of 5."
    )
    baseline_hours = serializers.IntegerField(min_value=1, max_value=24 * 30, required=False, default=24)
    min_count = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=10)
    sensitivity = serializers.ChoiceField(
        choices=Sensitivity.choices, required=False, default=Sensitivity.BALANCED
    )
    cooldown_minutes = serializers.IntegerField(
        min_value=0, max_value=7 * 24 * 60, required=False, default=60
    )
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.SEV3)
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="Kind-specific: volume_spike: method (poisson|robust_z), min_expected_per_hour; "
        "negative_spike: min_share, min_expected_per_hour; high_reach_negative: min_reach, min_mentions; "
        "crisis_terms: min_hits.",
    )

    def __init__(self, *args: Any, rule: Rule | None = None, **kwargs: Any) -> None:
        self.rule = rule
        super().__init__(*args, **kwargs)
        if rule is not None:
            self.fields.pop("watch")  # a rule never moves to another watch; PATCH (partial) skips defaults

    def validate_name(self, value: str) -> str:
        name = value.strip()
        if not name:
            raise serializers.ValidationError("This field may not be blank.")
        return name

    def validate_window_minutes(self, value: int) -> int:
        if value % 5:
            raise serializers.ValidationError("Use a multiple of 5 minutes (buckets are 5 minutes).")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rule = self.rule
        watch = attrs.get("watch") or (rule.watch if rule is not None else None)
        name = attrs.get("name")
        if watch is not None and name is not None:
            clash = Rule.objects.filter(watch=watch, name=name)
            if rule is not None:
                clash = clash.exclude(pk=rule.pk)
            if clash.exists():
                raise serializers.ValidationError({"name": "This watch already has a rule with this name."})
        # "kind" is required on create, so "" (no such kind) is never what a new rule reads.
        kind = attrs.get("kind", rule.kind if rule is not None else "")
        if "params" in attrs:
            try:
                attrs["params"] = rule_params_clean(kind, attrs["params"])
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"params": error.detail}) from error
        elif rule is not None and kind != rule.kind:
            # A new kind reads other parameters: drop the old kind's ones, keep nothing it cannot read.
            attrs["params"] = {
                key: value for key, value in (rule.params or {}).items() if key in RULE_PARAMS[kind]
            }
        if "severity" in attrs:
            attrs["severity"] = int(attrs["severity"])
        return attrs
