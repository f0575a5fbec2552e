"""Validation for working an incident: every field a stranger or a hurried responder could get wrong."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crisisdesk.links import safe_url
from incidents.lifecycle.selectors import assignable_members
from incidents.models import Draft, Incident
from incidents.response.selectors import QUEUE_REACH_CHOICES, QueueFilters
from incidents.response.services import MAX_FIRST_RESPONSE_MINUTES
from monitoring.models import Mention, SourceKind
from playbooks.constants import CHANNEL_CHOICES, LANGUAGE_CHOICES
from playbooks.models import ApprovalState, MessageTemplate, Playbook, PlaybookStatus, TemplateKind


class HttpUrlField(forms.URLField):
    """A URL field that accepts only http(s) links (``javascript:`` and friends never become links)."""

    default_error_messages = {"invalid": "Enter an http(s) link."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value and not safe_url(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value


class ActivateForm(forms.Form):
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.filter(status=PlaybookStatus.ACTIVE))


class TaskForm(forms.Form):
    done = forms.ChoiceField(choices=[("1", "done"), ("0", "not done")])


class RoleAssignForm(forms.Form):
    user = forms.ModelChoiceField(queryset=assignable_members(), required=False, empty_label="— unassigned —")


class DraftForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=TemplateKind.choices)
    channel = forms.ChoiceField(choices=CHANNEL_CHOICES)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES)

    class Meta:
        model = Draft
        fields = ["kind", "channel", "language", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6, "maxlength": 10000})}
        error_messages = {"body": {"required": "Write the message."}}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write the message.")
        if len(body) > 10000:
            raise forms.ValidationError("Keep a statement under 10,000 characters.")
        return body


class DraftFromTemplateForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.filter(approval_state=ApprovalState.APPROVED)
    )


class DraftReturnForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500)


class PublishForm(forms.Form):
    channel = forms.ChoiceField(choices=[c for c in CHANNEL_CHOICES if c[0] != "all"])
    url = HttpUrlField(required=False, label="Link to the published message")


class IncidentMentionForm(forms.Form):
    """A form about one mention of ``incident``: the chosen mention must belong to it."""

    mention = forms.ModelChoiceField(queryset=Mention.objects.all())

    def __init__(self, *args: Any, incident: Incident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident

    def clean_mention(self) -> Mention:
        mention = self.cleaned_data["mention"]
        if self.incident is not None and mention.incident_id != self.incident.pk:
            raise forms.ValidationError("That mention does not belong to this incident.")
        return mention


class ReplyForm(IncidentMentionForm):
    url = HttpUrlField(required=False, label="Link to the reply")
    text = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors and not (data.get("url") or (data.get("text") or "").strip()):
            self.add_error("text", "Give the reply's link or its text.")
        return data


class EvidenceForm(IncidentMentionForm):
    note = forms.CharField(required=False, max_length=2000)


class MentionAddForm(forms.Form):
    """Which mention to add to an incident; the service checks it is of the incident's watch."""

    mention = forms.ModelChoiceField(
        queryset=Mention.objects.only("id", "watch_id", "incident_id", "author", "url")
    )


class FirstResponseForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=MAX_FIRST_RESPONSE_MINUTES)


class QueueFilterForm(forms.Form):
    """The response queue's filters, from the incident page's query string. Anything invalid is
    ignored (the queue shows everything) rather than refused: it is a GET of a page being worked."""

    language = forms.RegexField(regex=r"^[a-z]{2,3}$", required=False, max_length=8)
    source = forms.ChoiceField(choices=[("", _("any source")), *SourceKind.choices], required=False)
    reach = forms.TypedChoiceField(
        choices=[(str(value), f"{value:,}+" if value else _("any reach")) for value in QUEUE_REACH_CHOICES],
        coerce=int,
        required=False,
        empty_value=None,
    )
    answered = forms.ChoiceField(
        choices=[("", _("answered or not")), ("unanswered", _("unanswered")), ("answered", _("answered"))],
        required=False,
    )

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data: dict[str, Any] = self.cleaned_data
        return QueueFilters(
            language=data.get("language") or "",
            source_kind=data.get("source") or "",
            min_reach=int(data.get("reach") or 0),
            answered=data.get("answered") or "",
        )


class PublicSummaryForm(forms.Form):
    public_summary = forms.CharField(
        required=False,
        max_length=300,
        label=_("The issue as the public would name it"),
        help_text=_(
            "Fills {issue} in public statements, e.g. “check-in problems at our airports”. Never internal wording."
        ),
    )
