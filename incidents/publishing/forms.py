"""Forms for preparing dark sites and publishing to them. They validate shape; services decide."""

from __future__ import annotations

import base64
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, PublicUpdate

MAX_LOGO_BYTES = 100 * 1024
# Formats recognised by their first bytes, never by the name or the browser's claim.
_LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}


class PrepareForm(forms.Form):
    slug = forms.CharField(
        label=_("Public address"),
        max_length=60,
        help_text=_("The page will be at /status/<address>/: lowercase letters, digits and hyphens."),
    )


class ContentForm(forms.Form):
    title = forms.CharField(label=_("Page title"), max_length=160)
    background = forms.CharField(
        label=_("Background"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    customer_contact = forms.CharField(label=_("Contact for customers"), required=False, max_length=300)
    press_contact = forms.CharField(label=_("Contact for the press"), required=False, max_length=300)
    resolved_notice = forms.CharField(
        label=_("Notice once resolved"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FaqEntryForm(forms.Form):
    question = forms.CharField(label=_("Question"), required=False, max_length=2000)
    answer = forms.CharField(
        label=_("Answer"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


FaqFormSet = forms.formset_factory(FaqEntryForm, extra=2, max_num=30, absolute_max=30, validate_max=True)


class LogoForm(forms.Form):
    logo = forms.FileField(label=_("Logo (PNG, JPEG or GIF, at most 100 KB)"))

    def clean_logo(self) -> str:
        """The upload as a ``data:`` URI (the strict CSP loads images only from us or ``data:``)."""
        upload = self.cleaned_data["logo"]
        if upload.size > MAX_LOGO_BYTES:
            raise forms.ValidationError(_("The logo must be at most 100 KB."))
        data = upload.read(MAX_LOGO_BYTES + 1)
        kind = next((mime for magic, mime in _LOGO_SIGNATURES.items() if data.startswith(magic)), None)
        if kind is None:
            raise forms.ValidationError(_("Upload a PNG, JPEG or GIF image."))
        return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


class UtcDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DarksitePublishForm(forms.Form):
    """Publishing one approved draft on the live site: as a new update, a translation or a correction."""

    translation_of = forms.ModelChoiceField(
        queryset=PublicUpdate.objects.none(), required=False, label=_("Translation of")
    )
    corrects = forms.ModelChoiceField(
        queryset=PublicUpdate.objects.none(), required=False, label=_("Corrects")
    )
    change_note = forms.CharField(label=_("What changed (for a correction)"), required=False, max_length=500)
    next_update_due = forms.DateTimeField(
        label=_("Next update by (your time zone)"), required=False, widget=UtcDateTimeInput()
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        originals = PublicUpdate.objects.filter(incident=incident, translation_of__isnull=True)
        fields = self.fields
        for name in ("translation_of", "corrects"):
            field = fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = originals


class NextUpdateForm(forms.Form):
    next_update_due = forms.DateTimeField(
        label=_("Next update by (your time zone)"), required=False, widget=UtcDateTimeInput()
    )
