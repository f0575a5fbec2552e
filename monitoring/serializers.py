"""DRF serializers for the monitoring API: the webhook's batch of mentions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from crisisdesk.links import URL_MAX, safe_url
from monitoring.intake.normalise import AUTHOR_MAX, EXTERNAL_ID_MAX, TEXT_MAX, language_tag
from monitoring.sources.base import Item


class WebhookMentionSerializer(serializers.Serializer):
    """One pushed mention. Unknown keys are ignored (kept in ``raw``), known ones are strict."""

    external_id = serializers.CharField(max_length=EXTERNAL_ID_MAX)
    text = serializers.CharField(max_length=TEXT_MAX * 2)
    published_at = serializers.DateTimeField()
    url = serializers.CharField(max_length=URL_MAX, required=False, allow_blank=True, default="")
    author = serializers.CharField(max_length=AUTHOR_MAX, required=False, allow_blank=True, default="")
    author_reach = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False, default=0)
    engagement = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False, default=0)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")

    def validate_url(self, value: str) -> str:
        if value and not safe_url(value):
            raise serializers.ValidationError("must be an absolute http(s) URL")
        return value

    def validate_language(self, value: str) -> str:
        if value and not language_tag(value):
            raise serializers.ValidationError("must be a language tag such as en, tr, pl, id, ms or en-US")
        return value


class WebhookBatchSerializer(serializers.Serializer):
    mentions = WebhookMentionSerializer(many=True, allow_empty=True)

    def validate_mentions(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > settings.WEBHOOK_MAX_BATCH:
            raise serializers.ValidationError(f"at most {settings.WEBHOOK_MAX_BATCH} mentions per request")
        return value

    def items(self, originals: list[Any] | None = None) -> list[Item]:
        """The validated mentions as ingest items; ``raw`` keeps what the sender sent, minus the text."""
        originals = originals or []
        return [
            Item(
                external_id=data["external_id"],
                text=data["text"],
                published_at=data["published_at"],
                url=data["url"],
                author=data["author"],
                author_reach=data["author_reach"],
                engagement=data["engagement"],
                language=data["language"],
                raw=_raw(originals[index] if index < len(originals) else {}),
            )
            for index, data in enumerate(self.validated_data["mentions"])
        ]


def _raw(original: Any) -> dict[str, Any]:
    if not isinstance(original, dict):
        return {}
    return {key: value for key, value in list(original.items())[:30] if key != "text"}


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors → ``{"mentions[3].published_at": ["…"]}``, so a sender sees the field."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"  # DRF reports list items by index
            elif key == "non_field_errors" and prefix:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else key
            for sub_key, messages in flatten_errors(value, name).items():
                flat.setdefault(sub_key, []).extend(messages)
    elif isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        for index, value in enumerate(errors):
            for sub_key, messages in flatten_errors(value, f"{prefix}[{index}]").items():
                flat.setdefault(sub_key, []).extend(messages)
    elif isinstance(errors, list):
        flat[prefix or "body"] = [str(error) for error in errors]
    else:
        flat[prefix or "body"] = [str(errors)]
    return flat
