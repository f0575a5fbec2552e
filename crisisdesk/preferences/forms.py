"""The preferences forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crisisdesk.preferences.choices import zone_choices


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args: Any, team_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = _("The team's default") + (f" ({team_label})" if team_label else "")
        self.fields["language"].choices = [("", default), *settings.LANGUAGES]  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = [("", default), *zone_choices()]  # type: ignore[attr-defined]


class TeamDefaultsForm(forms.Form):
    language = forms.ChoiceField(label=_("Team language"))
    time_zone = forms.ChoiceField(label=_("Team time zone"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = zone_choices()  # type: ignore[attr-defined]


class LanguageSwitchForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"))
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]
