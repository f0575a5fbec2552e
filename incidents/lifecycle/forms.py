"""Validation for the triage filters and the incident actions."""

from __future__ import annotations

from typing import Any

from django import forms

from incidents.lifecycle.selectors import assignable_members
from incidents.models import Status
from monitoring.models import Severity, Watch

STATUS_FILTER_CHOICES = [("open", "Open"), ("closed", "Resolved & closed"), ("all", "All")]


class IncidentFilterForm(forms.Form):
    """GET filters of the triage list. Bad values fall back to defaults rather than erroring."""

    status = forms.ChoiceField(choices=STATUS_FILTER_CHOICES, required=False)
    severity = forms.TypedChoiceField(
        choices=[("", "Any severity"), *Severity.choices], coerce=int, required=False, empty_value=None
    )
    watch = forms.ModelChoiceField(
        queryset=Watch.objects.order_by("name"), required=False, empty_label="Any watch"
    )

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        watch = data.get("watch")
        return {
            "status": data.get("status") or "open",
            "severity": data.get("severity"),
            "watch_id": watch.pk if watch else None,
        }


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SeverityForm(forms.Form):
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int)
    reason = forms.CharField(max_length=2000, widget=forms.TextInput(attrs={"placeholder": "Why?"}))


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=assignable_members(), required=False, empty_label="— nobody —")
