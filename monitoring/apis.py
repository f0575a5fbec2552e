"""Monitoring API: the signed webhook intake (documented in docs/webhook.md)."""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from monitoring.intake.ingest import ingest_items
from monitoring.intake.polling import record_push
from monitoring.models import Source, SourceKind
from monitoring.serializers import WebhookBatchSerializer, flatten_errors
from monitoring.sources.webhook import SIGNATURE_HEADER, signature_valid


class WebhookCredentialThrottle(SimpleRateThrottle):
    """Per-source limit against abuse of one credential — generous, so a real spike is never refused."""

    scope = "webhook_credential"

    def get_rate(self) -> str | None:
        # Read at request time (not import time) so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": view.kwargs["source_id"]}


def _error(code: int, message: str, **extra: object) -> Response:
    return Response({"detail": message, **extra}, status=code)


class SourceWebhookApi(APIView):
    """Accept a signed batch of mentions for one webhook source.

    No session or CSRF: the HMAC-SHA256 of the raw body with the source's secret is the credential.
    The throttle counts only correctly signed requests, so strangers cannot exhaust a sender's quota.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        summary="Push a signed batch of mentions",
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body with the source's secret>",
            )
        ],
        request=WebhookBatchSerializer,
        responses={
            202: inline_serializer(
                "WebhookAccepted",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "dropped": serializers.IntegerField(),
                },
            ),
            400: OpenApiResponse(description="Malformed JSON or an invalid field (named in the message)."),
            401: OpenApiResponse(description="Missing or wrong signature."),
            404: OpenApiResponse(description="No active webhook source with this id."),
            413: OpenApiResponse(description="Body or batch larger than the configured limits."),
            429: OpenApiResponse(description="This credential sent far more requests than normal use."),
        },
        auth=[],
    )
    def post(self, request: Request, source_id: int) -> Response:
        source = (
            Source.objects.select_related("watch")
            .filter(pk=source_id, kind=SourceKind.WEBHOOK, is_active=True)
            .first()
        )
        if source is None:
            return _error(status.HTTP_404_NOT_FOUND, "No active webhook source with this id.")

        max_bytes = settings.WEBHOOK_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > max_bytes:
            return _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {max_bytes} bytes.")
        body = request._request.read(max_bytes + 1)  # raw bytes: the signature covers them exactly
        if len(body) > max_bytes:
            return _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {max_bytes} bytes.")

        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            return _error(status.HTTP_401_UNAUTHORIZED, f"Missing {SIGNATURE_HEADER} header.")
        if not signature_valid(source.secret, body, header):
            return _error(
                status.HTTP_401_UNAUTHORIZED,
                f"Bad {SIGNATURE_HEADER}: expected sha256=<hex HMAC-SHA256 of the raw body with the source secret>.",
            )

        throttle = WebhookCredentialThrottle()
        if not throttle.allow_request(request, self):
            raise Throttled(wait=throttle.wait())

        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            return _error(status.HTTP_400_BAD_REQUEST, f"Malformed JSON: {error}")
        if not isinstance(payload, dict) or "mentions" not in payload:
            return _error(status.HTTP_400_BAD_REQUEST, 'mentions: required (the body is {"mentions": [...]}).')
        if not isinstance(payload["mentions"], list):
            return _error(status.HTTP_400_BAD_REQUEST, "mentions: must be a list.")
        if len(payload["mentions"]) > settings.WEBHOOK_MAX_BATCH:
            return _error(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                f"mentions: at most {settings.WEBHOOK_MAX_BATCH} per request; split the batch.",
            )

        serializer = WebhookBatchSerializer(data=payload)
        if not serializer.is_valid():
            errors = flatten_errors(serializer.errors)
            first_field, messages = next(iter(errors.items()))
            return _error(status.HTTP_400_BAD_REQUEST, f"{first_field}: {' '.join(messages)}", errors=errors)

        result = ingest_items(source=source, items=serializer.items(payload["mentions"]))
        record_push(source=source)
        return Response(
            {"accepted": result.created, "duplicates": result.duplicates, "dropped": result.dropped},
            status=status.HTTP_202_ACCEPTED,
        )
