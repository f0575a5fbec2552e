"""The signed webhook endpoint (documented in docs/webhook.md).

It reads the HTTP request (the raw body, its declared length, the signature header), throttles a
correctly signed credential, and answers; what is accepted and stored is decided by the use case,
``monitoring.intake.webhook``.
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from monitoring.intake.webhook import (
    WebhookBatchSerializer,
    WebhookRejected,
    webhook_accept,
    webhook_authenticate,
)
from monitoring.sources.webhook import SIGNATURE_HEADER


class WebhookCredentialThrottle(SimpleRateThrottle):
    """Per-source limit against abuse of one credential — generous, so a real spike is never refused."""

    scope = "webhook_credential"

    def get_rate(self) -> str | None:
        # Read at request time (not import time) so settings overrides apply.
        # The stubs type the rates as numbers; DRF's are strings such as "600/min" (or None: no limit).
        return cast("str | None", api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": view.kwargs["source_id"]}


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
        try:
            signed = webhook_authenticate(
                source_id=source_id,
                declared_length=_declared_length(request),
                stream=request.stream,
                signature=request.headers.get(SIGNATURE_HEADER),
            )
            throttle = WebhookCredentialThrottle()  # counts only requests signed correctly
            if not throttle.allow_request(request, self):
                raise Throttled(wait=throttle.wait())
            result = webhook_accept(signed=signed)
        except WebhookRejected as rejected:
            return Response({"detail": rejected.message, **rejected.extra}, status=rejected.status)
        return Response(
            {"accepted": result.created, "duplicates": result.duplicates, "dropped": result.dropped},
            status=status.HTTP_202_ACCEPTED,
        )


def _declared_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
