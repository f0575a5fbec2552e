"""Validation for the message template pages. Services receive clean, typed values only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from playbooks.constants import CHANNEL_CHOICES, LANGUAGE_CHOICES
from playbooks.message_templates.placeholders import placeholder_errors
from playbooks.models import TemplateKind

MAX_BODY = 5000


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(choices=TemplateKind.choices)
    channel = forms.ChoiceField(choices=CHANNEL_CHOICES, initial="all")
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, initial="en")
    title = forms.CharField(max_length=160)
    body = forms.CharField(
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders: {brand}, {issue}, {next_update}, {contact}, {incident_url}. "
        "Write {{ or }} for a literal brace.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Live preview: htmx posts the whole form to the preview endpoint as the text changes.
        preview = {
            "hx-post": reverse("playbooks:template_preview"),
            "hx-target": "#template-preview",
            "hx-include": "closest form",
            "hx-swap": "innerHTML",
        }
        self.fields["body"].widget.attrs.update(preview, **{"hx-trigger": "input changed delay:300ms"})
        self.fields["language"].widget.attrs.update(preview, **{"hx-trigger": "change"})

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        errors = placeholder_errors(body)
        if errors:
            raise ValidationError(errors)
        return body


class PreviewForm(forms.Form):
    body = forms.CharField(max_length=MAX_BODY, required=False, strip=False)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, required=False)
