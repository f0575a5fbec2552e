"""The channel form: common routing fields plus the kind's own config, validated by its plug-in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from incidents.models import ChannelKind, DeliveryStatus, NotificationChannel
from incidents.notifications.channels import DEFAULT_ESCALATE_AFTER_MINUTES, get_channel
from monitoring.models import Severity, Watch

CONFIG_FIELDS = ("url", "addresses", "escalate_after_minutes")


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=120)
    # The subscribers channel is the system's own, one per dark site: never configured by hand.
    kind = forms.ChoiceField(choices=[c for c in ChannelKind.choices if c[0] != ChannelKind.SUBSCRIBERS])
    url = forms.CharField(
        label="Webhook URL",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
        help_text="Slack, Teams or JSON webhook: http(s) only. Treat it as a secret.",
    )
    addresses = forms.CharField(
        label="Email addresses",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line (or comma separated).",
    )
    min_severity = forms.TypedChoiceField(
        label="Notify for",
        choices=Severity.choices,
        coerce=int,
        initial=Severity.SEV4,
        help_text="This severity or worse.",
    )
    watches = forms.ModelMultipleChoiceField(
        queryset=Watch.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected means every watch.",
    )
    tier = forms.IntegerField(
        min_value=1,
        max_value=9,
        initial=1,
        help_text="1 = first responders; 2+ are told when nobody acknowledges in time.",
    )
    escalate_after_minutes = forms.IntegerField(
        label="Escalate to this tier after (minutes)",
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        initial=DEFAULT_ESCALATE_AFTER_MINUTES,
        help_text="For tier 2+: minutes unacknowledged (since the previous tier) before this tier is told.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(
        self, data: Any = None, *, channel: NotificationChannel | None = None, **kwargs: Any
    ) -> None:
        self.channel = channel
        if channel is not None and data is None:
            config = channel.config or {}
            kwargs["initial"] = {
                "name": channel.name,
                "kind": channel.kind,
                "url": config.get("url", ""),
                "addresses": "\n".join(config.get("addresses", [])),
                "min_severity": channel.min_severity,
                "watches": list(channel.watches.all()),
                "tier": channel.tier,
                "escalate_after_minutes": config.get(
                    "escalate_after_minutes", DEFAULT_ESCALATE_AFTER_MINUTES
                ),
                "is_active": channel.is_active,
            }
        super().__init__(data, **kwargs)
        if channel is not None:
            # A channel's kind is fixed once created.
            self.fields["kind"].disabled = True
            self.fields["kind"].initial = channel.kind
        else:
            del self.fields["is_active"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = NotificationChannel.objects.filter(name__iexact=name)
        if self.channel is not None:
            others = others.exclude(pk=self.channel.pk)
        if others.exists():
            raise ValidationError("Another channel already has this name.")
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if not kind:
            return data
        raw = {name: data.get(name) for name in CONFIG_FIELDS if data.get(name) not in (None, "")}
        try:
            data["config"] = get_channel(kind).validate_config(raw)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, exc)
        return data


class DeliveryFilterForm(forms.Form):
    """GET filters of the delivery log; bad values are ignored rather than erroring."""

    status = forms.ChoiceField(choices=[("", "Any status"), *DeliveryStatus.choices], required=False)
    channel = forms.ModelChoiceField(
        queryset=NotificationChannel.objects.order_by("name"), required=False, empty_label="Any channel"
    )
    incident = forms.IntegerField(
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": "Incident #", "style": "width: 8rem"}),
    )

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(
            self, "cleaned_data", {}
        )  # only the fields that were valid: a bad one is ignored, not fatal
        channel = data.get("channel")
        return {
            "status": data.get("status") or "",
            "channel_id": channel.pk if channel else None,
            "incident_id": data.get("incident"),
        }
