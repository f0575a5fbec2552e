"""Validation for the playbook pages. Services receive clean, typed values only."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from playbooks.constants import (
    CHANNEL_CHOICES,
    CHANNEL_SLUG,
    LANGUAGES,
    MAX_TERM_LENGTH,
    MAX_TERMS_PER_LANGUAGE,
)
from playbooks.models import CrisisRole, Phase, Playbook, Scenario, ScenarioType

MAX_DUE_OFFSET = 60 * 24 * 90  # ninety days


def parse_trigger_terms(text: str) -> dict[str, list[str]]:
    """Parse ``lang: term, term`` lines into ``{lang: [terms]}``; raise ValidationError naming the bad line."""
    result: dict[str, list[str]] = {}
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            errors.append(
                f"Line {number}: write it as “language: term, term” (e.g. “tr: geri çağırma, iade”)."
            )
            continue
        code, _, terms_text = line.partition(":")
        code = code.strip().lower()
        if code not in LANGUAGES:
            errors.append(f"Line {number}: unknown language “{code}”; use one of {', '.join(LANGUAGES)}.")
            continue
        terms = result.setdefault(code, [])
        seen = {t.casefold() for t in terms}
        for term in terms_text.split(","):
            term = " ".join(term.split())
            if not term:
                continue
            if len(term) > MAX_TERM_LENGTH:
                errors.append(f"Line {number}: “{term[:30]}…” is longer than {MAX_TERM_LENGTH} characters.")
                continue
            if term.casefold() not in seen:
                seen.add(term.casefold())
                terms.append(term)
        if len(terms) > MAX_TERMS_PER_LANGUAGE:
            errors.append(f"Line {number}: at most {MAX_TERMS_PER_LANGUAGE} terms per language.")
        if not terms:
            errors.append(f"Line {number}: no terms after “{code}:”.")
    if errors:
        raise ValidationError(errors)
    return result


def format_trigger_terms(terms: dict[str, list[str]]) -> str:
    """The textarea form of ``{lang: [terms]}``, languages in our usual order."""
    order = [code for code in LANGUAGES if code in terms] + sorted(set(terms) - set(LANGUAGES))
    return "\n".join(f"{code}: {', '.join(terms[code])}" for code in order if terms[code])


def parse_channels(text: str) -> list[str]:
    channels: list[str] = []
    for raw in text.replace("\n", ",").split(","):
        channel = raw.strip().lower()
        if not channel:
            continue
        if not CHANNEL_SLUG.match(channel):
            raise ValidationError(
                f"“{channel[:40]}” is not a channel name: "
                "use lowercase letters, digits, - or _ (e.g. x, website, email)."
            )
        if channel not in channels:
            channels.append(channel)
    return channels


class ScenarioForm(forms.Form):
    type = forms.ChoiceField(choices=ScenarioType.choices, label="Scenario type")
    name = forms.CharField(max_length=120)
    guidance = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    engagement_approach = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    trigger_terms = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "en: recall, refund\ntr: geri çağırma, iade"}),
        required=False,
        help_text="One line per language: “language: term, term”. Languages: " + ", ".join(LANGUAGES) + ".",
    )
    channels = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. x, website, email. Known: "
        + ", ".join(c for c, _ in CHANNEL_CHOICES)
        + ".",
    )

    def __init__(self, *args: Any, scenario: Scenario | None = None, **kwargs: Any) -> None:
        if scenario is not None:
            kwargs.setdefault(
                "initial",
                {
                    "type": scenario.type,
                    "name": scenario.name,
                    "guidance": scenario.guidance,
                    "engagement_approach": scenario.engagement_approach,
                    "trigger_terms": format_trigger_terms(scenario.trigger_terms or {}),
                    "channels": ", ".join(scenario.channels or []),
                },
            )
        super().__init__(*args, **kwargs)
        if scenario is not None:
            del self.fields["type"]  # the type is the scenario's identity
        else:
            taken = set(Scenario.objects.values_list("type", flat=True))
            cast(forms.ChoiceField, self.fields["type"]).choices = [
                c for c in ScenarioType.choices if c[0] not in taken
            ]

    def clean_trigger_terms(self) -> dict[str, list[str]]:
        return parse_trigger_terms(self.cleaned_data["trigger_terms"])

    def clean_channels(self) -> list[str]:
        return parse_channels(self.cleaned_data["channels"])


class PlaybookForm(forms.Form):
    scenario = forms.ModelChoiceField(queryset=Scenario.objects.order_by("name"))
    name = forms.CharField(max_length=160)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, playbook: Playbook | None = None, **kwargs: Any) -> None:
        if playbook is not None:
            kwargs.setdefault("initial", {"name": playbook.name, "description": playbook.description})
        super().__init__(*args, **kwargs)
        if playbook is not None:
            del self.fields["scenario"]  # a version belongs to its scenario for good


class RoleForm(forms.Form):
    name = forms.CharField(max_length=80)
    responsibilities = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    order = forms.IntegerField(min_value=0, max_value=999, required=False)


class ChecklistItemForm(forms.Form):
    phase = forms.ChoiceField(choices=Phase.choices, initial=Phase.DURING)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    role = forms.ModelChoiceField(queryset=CrisisRole.objects.none(), required=False, empty_label="(no role)")
    due_offset_minutes = forms.IntegerField(
        min_value=0,
        max_value=MAX_DUE_OFFSET,
        required=False,
        label="Due within (minutes)",
        help_text="Minutes after the playbook is activated on an incident; leave empty for no deadline.",
    )
    order = forms.IntegerField(min_value=0, max_value=999, required=False)

    def __init__(self, *args: Any, playbook: Playbook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[CrisisRole]", self.fields["role"]).queryset = playbook.roles.order_by(
            "order", "name"
        )
