"""The audit browser's filter form."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from crisisdesk.audit.selectors import audit_object_types
from crisisdesk.types import Member


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(required=False, label="Object type")
    actor: forms.ModelChoiceField[Member] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Anyone", to_field_name="username"
    )
    action = forms.CharField(
        required=False, max_length=80, help_text="Part of the action, e.g. incident.status"
    )
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``self.fields`` is typed as plain Field; these are the choice fields declared above.
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [
            ("", "Any type"),
            *((t, t) for t in audit_object_types()),
        ]
        cast(
            "forms.ModelChoiceField[Member]", self.fields["actor"]
        ).queryset = get_user_model().objects.order_by("username")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
