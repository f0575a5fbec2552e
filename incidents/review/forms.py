"""Validation for the post-crisis review page: the review text, action items and their done state."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from crisisdesk.types import Member
from incidents.review.selectors import action_item_owner_choices
from incidents.review.services import MAX_TEXT
from playbooks.models import Playbook


class ReviewForm(forms.Form):
    summary = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What happened, in a few sentences a newcomer would understand.",
    )
    went_well = forms.CharField(
        label="What went well", required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
    went_badly = forms.CharField(
        label="What went badly", required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
    lessons = forms.CharField(required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}))


class ActionItemForm(forms.Form):
    # Every field has its label spelled out: error messages name a bad field by its label.
    text = forms.CharField(label="Action item", max_length=300)
    owner: forms.ModelChoiceField[Member] = forms.ModelChoiceField(
        label="Owner", queryset=None, required=False, empty_label="No owner yet"
    )
    playbook = forms.ModelChoiceField(
        label="Playbook",
        queryset=Playbook.objects.select_related("scenario").order_by("name", "-version"),
        required=False,
        empty_label="No playbook change",
        help_text="The playbook this action item asks to change.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Member]", self.fields["owner"]).queryset = action_item_owner_choices()


class ActionItemDoneForm(forms.Form):
    done = forms.TypedChoiceField(
        label="Done", choices=[("1", "done"), ("0", "not done")], coerce=lambda v: v == "1"
    )
