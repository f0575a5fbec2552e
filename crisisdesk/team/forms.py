"""Team page forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from crisisdesk.roles import ROLE_CHOICES


class MemberCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="viewer")
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to generate one; it is shown once.",
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        field = get_user_model()._meta.get_field("username")
        for validator in field.validators:
            validator(username)
        return username


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class MemberActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        choices=[("1", "Reactivate"), ("0", "Deactivate")], coerce=lambda value: value == "1"
    )
