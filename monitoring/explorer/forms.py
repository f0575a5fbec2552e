"""The explorer's GET form: every filter validated, so a bad value is a message naming it, never a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.explorer.search import OTHER_LANGUAGE, SEARCH_MAX_LENGTH, MentionQuery
from monitoring.models import SentimentLabel
from playbooks.constants import LANGUAGE_CHOICES, LANGUAGES

MAX_ID = 2**63 - 1  # ids are BigAutoField; SQLite raises OverflowError past this
MAX_REACH = 2**63 - 1
YES_NO = [("", _("either")), ("yes", _("yes")), ("no", _("no"))]
# The filter fields, in the order a link carries them (the keyset cursor ``after`` is not one).
FILTER_FIELDS = (
    "q", "watch", "source", "language", "sentiment", "min_risk", "min_reach", "author", "since", "until",
    "incident", "in_incident", "own", "answered",
)  # fmt: skip


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class MentionSearchForm(forms.Form):
    """Bound to ``request.GET``. Times are read in the site's time zone (``TIME_ZONE``)."""

    q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        label=_("Search"),
        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")},
    )
    watch = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label=_("Watch"))
    source = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label=_("Source"))
    language = forms.ChoiceField(
        required=False,
        label=_("Language"),
        choices=[("", _("any language")), *LANGUAGE_CHOICES, (OTHER_LANGUAGE, _("other"))],
    )
    sentiment = forms.ChoiceField(
        required=False, label=_("Sentiment"), choices=[("", _("any sentiment")), *SentimentLabel.choices]
    )
    min_risk = forms.FloatField(required=False, min_value=0, max_value=1, label=_("Risk at least"))
    min_reach = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_REACH, label=_("Reach at least")
    )
    author = forms.CharField(required=False, max_length=255, label=_("Author"))
    since = forms.DateTimeField(required=False, label=_("Published from"))
    until = forms.DateTimeField(required=False, label=_("Published before"))
    incident = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label=_("Incident"))
    in_incident = forms.ChoiceField(required=False, choices=YES_NO, label=_("In an incident"))
    own = forms.ChoiceField(required=False, choices=YES_NO, label=_("Our own posts"))
    answered = forms.ChoiceField(required=False, choices=YES_NO, label=_("Answered"))
    after = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("Choose a time after “Published from”."))
        return data

    def query(self) -> MentionQuery:
        """The validated filters (call after ``is_valid()``)."""
        data = self.cleaned_data
        return MentionQuery(
            q=(data.get("q") or "").strip(),
            watch_id=data.get("watch"),
            source_id=data.get("source"),
            language=data.get("language") or "",
            known_languages=tuple(LANGUAGES),
            sentiment=data.get("sentiment") or "",
            min_risk=data.get("min_risk"),
            min_reach=data.get("min_reach"),
            author=(data.get("author") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            incident_id=data.get("incident"),
            in_incident=_yes_no(data.get("in_incident") or ""),
            own=_yes_no(data.get("own") or ""),
            answered=_yes_no(data.get("answered") or ""),
        )

    def after_id(self) -> int | None:
        """The keyset cursor: continue after this mention (None: from the newest)."""
        return self.cleaned_data.get("after")
