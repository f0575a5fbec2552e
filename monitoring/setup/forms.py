"""Forms for the setup pages (watches, sources, rules). Source setup forms are built
from the connector's ``config_fields``
and checked by its ``validate_config`` (through the service), so a connector's errors land on the
field they name."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from monitoring.models import Rule, RuleKind, Sensitivity, Severity, Source, SourceKind, Watch
from monitoring.setup.services import (
    RULE_FIELDS,
    is_secret_config_key,
    own_accounts_clean,
    source_config_clean,
)
from monitoring.sources import get_connector
from monitoring.sources.drill import available_recordings
from playbooks.models import Scenario

CONFIG_PREFIX = "cfg_"
MAX_TERMS = 200
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def split_terms(value: str) -> list[str]:
    """Comma- or newline-separated terms, stripped, without blanks or repeats (order kept)."""
    terms: list[str] = []
    for term in re.split(r"[,\n]", value or ""):
        term = term.strip()
        if term and term not in terms:
            terms.append(term)
    return terms


class TermsField(forms.CharField):
    """A list of terms edited as comma/newline separated text (multilingual: any letters)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    # A list built on CharField's text cleaning, as Django's SimpleArrayField does (whose stub
    # overrides the return type the same way).
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        terms = split_terms(super().to_python(value) or "")  # "" when empty (CharField's empty_value)
        if len(terms) > MAX_TERMS:
            raise ValidationError(f"At most {MAX_TERMS} terms.")
        if any(len(term) > 100 for term in terms):
            raise ValidationError("Each term must be at most 100 characters.")
        return terms


class WatchForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    include_terms = TermsField(
        required=True,
        help_text="Any of these matches (one per line or comma separated), e.g. Acme Air, acmeair, #acme.",
    )
    exclude_terms = TermsField(required=False, help_text="Mentions containing any of these are dropped.")
    languages = forms.CharField(
        required=False,
        max_length=200,
        help_text="ISO 639-1 codes, e.g. en, tr, pl, id, ms. Empty: any language.",
    )
    own_accounts = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="The brand's own accounts",
        help_text=(
            "One platform per line: “any: @AcmeAir” or “mastodon: @acmeair@mastodon.social, @acmeair_help”. "
            "Platforms: any, "
            + ", ".join(SourceKind.values)
            + ". Their posts are our statements, never chatter."
        ),
    )
    default_scenario = forms.ModelChoiceField(
        queryset=Scenario.objects.order_by("name"),
        required=False,
        help_text="The playbook scenario suggested when this watch opens an incident.",
    )

    def __init__(self, *args: Any, watch: Watch | None = None, **kwargs: Any) -> None:
        self.watch = watch
        if watch is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": watch.name,
                "description": watch.description,
                "include_terms": watch.include_terms,
                "exclude_terms": watch.exclude_terms,
                "languages": ", ".join(watch.languages),
                "default_scenario": watch.default_scenario_id,
                "own_accounts": "\n".join(
                    f"{platform}: {', '.join(handles)}"
                    for platform, handles in (watch.own_accounts or {}).items()
                ),
            }
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Watch.objects.filter(name__iexact=name)
        if self.watch is not None:
            clash = clash.exclude(pk=self.watch.pk)
        if clash.exists():
            raise ValidationError("A watch with this name exists.")
        return name

    def clean_own_accounts(self) -> dict[str, list[str]]:
        accounts: dict[str, list[str]] = {}
        for number, line in enumerate(self.cleaned_data["own_accounts"].splitlines(), start=1):
            if not line.strip():
                continue
            platform, colon, handles = line.partition(":")
            if not colon:
                raise ValidationError(
                    f"Line {number}: write “platform: handle, handle”, e.g. “any: @AcmeAir”."
                )
            accounts.setdefault(platform.strip().lower(), []).extend(split_terms(handles))
        try:
            return own_accounts_clean(accounts)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["own_accounts"]) from None

    def clean_languages(self) -> list[str]:
        codes = [code.lower() for code in split_terms(self.cleaned_data["languages"])]
        bad = [code for code in codes if not _LANGUAGE.match(code)]
        if bad:
            raise ValidationError(f"Not a language code: {', '.join(bad)} (use two letters, e.g. tr).")
        return codes


class SourceForm(forms.Form):
    """Name, poll interval and one field per connector config key (``cfg_<key>``)."""

    name = forms.CharField(max_length=120)
    poll_interval = forms.IntegerField(
        min_value=5,
        max_value=86_400,
        initial=300,
        label="Poll interval (seconds)",
        help_text="How often to fetch. Temporary errors back off from this up to an hour.",
    )

    def __init__(
        self, *args: Any, kind: str, watch: Watch, source: Source | None = None, **kwargs: Any
    ) -> None:
        self.kind, self.watch, self.source = kind, watch, source
        self.connector = get_connector(kind)
        if source is not None and "initial" not in kwargs:
            initial = {"name": source.name, "poll_interval": source.poll_interval}
            for key, value in (source.config or {}).items():
                if is_secret_config_key(key):
                    continue  # never echoed into a page
                initial[CONFIG_PREFIX + key] = (
                    ", ".join(map(str, value)) if isinstance(value, list) else value
                )
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        if not self.connector.pull:
            del self.fields["poll_interval"]
        elif kind == SourceKind.DRILL:
            self.fields["poll_interval"].initial = 5
        for key, (label, required, help_text) in self.connector.config_fields.items():
            self.fields[CONFIG_PREFIX + key] = self._config_field(key, label, required, help_text)

    def clean_poll_interval(self) -> int:
        value = self.cleaned_data["poll_interval"]
        if value < 30 and self.kind != SourceKind.DRILL:
            # A drill reads a local file; anything else is someone's server.
            raise ValidationError("Poll a remote service at most every 30 seconds.")
        return value

    def _config_field(self, key: str, label: str, required: bool, help_text: str) -> forms.Field:
        if is_secret_config_key(key):
            keep = self.source is not None and (self.source.config or {}).get(key)
            return forms.CharField(
                label=label,
                required=required and not keep,
                max_length=500,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=help_text + (" Stored; leave empty to keep the current one." if keep else ""),
            )
        if self.kind == SourceKind.DRILL and key == "recording":
            choices = [(name, name) for name in available_recordings()]
            return forms.ChoiceField(label=label, required=required, choices=choices, help_text=help_text)
        return forms.CharField(label=label, required=required, max_length=2000, help_text=help_text)

    def config(self) -> dict[str, Any]:
        return {
            name.removeprefix(CONFIG_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(CONFIG_PREFIX)
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        name = (cleaned.get("name") or "").strip()
        if name:
            clash = Source.objects.filter(watch=self.watch, name=name)
            if self.source is not None:
                clash = clash.exclude(pk=self.source.pk)
            if clash.exists():
                self.add_error("name", f"{self.watch.name} already has a source named {name!r}.")
        if self.errors:
            return cleaned
        try:
            # Errors name the config key; they go on that field (e.g. "Enter an absolute http(s) URL.").
            self.cleaned_config = source_config_clean(
                kind=self.kind, config=self.config(), previous=self.source.config if self.source else None
            )
        except ValidationError as error:
            self.add_connector_error(error)
        return cleaned

    def add_connector_error(self, error: ValidationError) -> None:
        """Put a connector's ValidationError on the field it names (or on the form)."""
        if hasattr(error, "error_dict"):
            for key, errors in error.error_dict.items():
                field = (
                    CONFIG_PREFIX + key
                    if CONFIG_PREFIX + key in self.fields
                    else (key if key in self.fields else None)
                )
                for item in errors:
                    self.add_error(field, item.messages)
        else:
            self.add_error(None, error.messages)


class SourceKindForm(forms.Form):
    kind = forms.ChoiceField(choices=SourceKind.choices, label="Kind of source")


# --- Rules ----------------------------------------------------------------------------------------

# Kind-specific parameters the evaluators read (monitoring.detection.evaluators), as optional form fields.
RULE_PARAMS: dict[str, list[str]] = {
    RuleKind.VOLUME_SPIKE: ["method", "min_expected_per_hour"],
    RuleKind.NEGATIVE_SPIKE: ["min_share", "min_expected_per_hour"],
    RuleKind.HIGH_REACH_NEGATIVE: ["min_reach", "min_mentions"],
    RuleKind.CRISIS_TERMS: ["min_hits"],
}


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=RuleKind.choices)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    window_minutes = forms.IntegerField(
        min_value=5,
        max_value=24 * 60,
        initial=15,
        label="Window (minutes)",
        help_text="The observed window; a multiple of 5 (buckets are 5 minutes).",
    )
    baseline_hours = forms.IntegerField(
        min_value=1,
        max_value=24 * 30,
        initial=24,
        label="Baseline (hours)",
        help_text="The trailing history the window is compared with.",
    )
    min_count = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        initial=10,
        label="Minimum count",
        help_text="Never fire below this many mentions in the window.",
    )
    sensitivity = forms.ChoiceField(choices=Sensitivity.choices, initial=Sensitivity.BALANCED)
    cooldown_minutes = forms.IntegerField(
        min_value=0,
        max_value=7 * 24 * 60,
        initial=60,
        label="Cooldown (minutes)",
        help_text="Quiet time after firing.",
    )
    severity = forms.TypedChoiceField(
        choices=Severity.choices,
        coerce=int,
        initial=Severity.SEV3,
        help_text="The least severity it opens; a larger breach raises it.",
    )
    # Kind parameters (only those of the chosen kind are kept).
    method = forms.ChoiceField(
        required=False,
        choices=[("poisson", "Poisson tail"), ("robust_z", "Robust z-score")],
        label="Volume test",
        help_text="Volume spike: the statistical test against the baseline.",
    )
    min_expected_per_hour = forms.FloatField(
        required=False,
        min_value=0,
        max_value=100_000,
        label="Baseline floor (mentions/hour)",
        help_text="Volume/negative spike: an empty history counts as at least this rate.",
    )
    min_share = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Minimum negative share",
        help_text="Negative spike: fire only above this share (0–1).",
    )
    min_reach = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10**12,
        label="Minimum reach",
        help_text="High-reach negative: followers/subscribers of the author.",
    )
    min_mentions = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,
        label="Mentions needed",
        help_text="High-reach negative: how many such mentions in the window.",
    )
    min_hits = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        label="Crisis-term hits",
        help_text="Crisis terms: hits in the window (default: the minimum count).",
    )

    def __init__(self, *args: Any, watch: Watch, rule: Rule | None = None, **kwargs: Any) -> None:
        self.watch, self.rule = watch, rule
        if rule is not None and "initial" not in kwargs:
            initial = {
                name: getattr(rule, name)
                for name in RULE_FIELDS
                if name != "params"  # shown as the kind's own fields below
            }
            initial.update(
                {key: value for key, value in (rule.params or {}).items() if key in self.base_fields}
            )
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Rule.objects.filter(watch=self.watch, name=name)
        if self.rule is not None:
            clash = clash.exclude(pk=self.rule.pk)
        if clash.exists():
            raise ValidationError("This watch already has a rule with this name.")
        return name

    def clean_window_minutes(self) -> int:
        value = self.cleaned_data["window_minutes"]
        if value % 5:
            raise ValidationError("Use a multiple of 5 minutes.")
        return value

    def rule_fields(self) -> dict[str, Any]:
        """The model fields for ``rule_create``/``rule_update``, with ``params`` for the chosen kind only."""
        data = self.cleaned_data
        params = (
            dict(self.rule.params or {}) if self.rule is not None and self.rule.kind == data["kind"] else {}
        )
        for key in {key for keys in RULE_PARAMS.values() for key in keys}:
            params.pop(key, None)
        for key in RULE_PARAMS.get(data["kind"], []):
            value = data.get(key)
            if value not in (None, ""):
                params[key] = value
        return {
            "name": data["name"],
            "kind": data["kind"],
            "is_active": data["is_active"],
            "window_minutes": data["window_minutes"],
            "baseline_hours": data["baseline_hours"],
            "min_count": data["min_count"],
            "sensitivity": data["sensitivity"],
            "cooldown_minutes": data["cooldown_minutes"],
            "severity": data["severity"],
            "params": params,
        }


class BacktestForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=31, initial=7, label="Days")
