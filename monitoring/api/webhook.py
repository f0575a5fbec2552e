"""The signed webhook endpoint (documented in docs/webhook.md).

It reads the HTTP request (the raw body whatever its transfer encoding, its declared length, the
signature headers), charges a correctly signed credential's quota, and answers; what is accepted
and stored is decided by the use case, ``monitoring.intake.webhook``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as day_start
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.intake.webhook import (
    BodyStream,
    SignedBody,
    WebhookBatchSerializer,
    WebhookRejected,
    webhook_accept,
    webhook_authenticate,
    webhook_claim,
    webhook_release,
)
from monitoring.intake.webhook_guard import quota_charge
from monitoring.sources.webhook import LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER


class SourceWebhookApi(APIView):
    """Accept a signed batch of mentions for one webhook source.

    No session or CSRF: the HMAC-SHA256 of ``"<t>.<raw body>"`` with the source's secret is the
    credential. Only a correctly signed, recent, first-time request counts against the source's
    quota, so neither strangers nor replays of a captured request can exhaust a sender's quota.
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
                required=False,
                description=(
                    't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the source\'s secret>; '
                    "several v1= are allowed. Refused when t is more than "
                    "WEBHOOK_SIGNATURE_TOLERANCE_SECONDS (300) from the server's clock."
                ),
            ),
            OpenApiParameter(
                LEGACY_SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                deprecated=True,
                description="Deprecated: sha256=<hex HMAC-SHA256 of the raw body>; accepted until the sunset date.",
            ),
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
            401: OpenApiResponse(
                description="Missing, malformed, stale or wrong signature (`code` says which)."
            ),
            404: OpenApiResponse(description="No active webhook source with this id."),
            409: OpenApiResponse(description="This signed request was already accepted (a replay)."),
            411: OpenApiResponse(description="A chunked body this server cannot read: send Content-Length."),
            413: OpenApiResponse(description="Body or batch larger than the configured limits."),
            429: OpenApiResponse(description="This credential sent far more requests than normal use."),
        },
        auth=[],
    )
    def post(self, request: Request, source_id: int) -> Response:
        legacy = not request.headers.get(SIGNATURE_HEADER) and bool(
            request.headers.get(LEGACY_SIGNATURE_HEADER)
        )
        try:
            declared_length, stream = request_body(request._request)
            signed = webhook_authenticate(
                source_id=source_id,
                declared_length=declared_length,
                stream=stream,
                signature=request.headers.get(SIGNATURE_HEADER),
                legacy_signature=request.headers.get(LEGACY_SIGNATURE_HEADER),
            )
            response = _accept(signed)
        except WebhookRejected as rejected:
            response = Response({"detail": rejected.message, **rejected.extra}, status=rejected.status)
            for name, value in rejected.headers.items():
                response[name] = value
        if legacy:
            _mark_deprecated(response)
        return response


def _accept(signed: SignedBody) -> Response:
    webhook_claim(signed=signed)  # a replay stops here, before it counts against the quota
    try:
        quota = quota_charge(source_id=signed.source.pk, now=time.time())
        if not quota.allowed:
            raise WebhookRejected(
                HTTPStatus.TOO_MANY_REQUESTS,
                _("Too many requests for this source: at most %(limit)s per window. Retry in %(seconds)s s.")
                % {"limit": quota.limit, "seconds": quota.retry_after},
                headers={"Retry-After": str(quota.retry_after)},
                code="throttled",
            )
        result = webhook_accept(signed=signed)
    except BaseException:
        # Not accepted (refused, throttled, or the database failed: a 503 from the middleware), so
        # the same signed request sent again is a retry, not a replay.
        webhook_release(signed=signed)
        raise
    return Response(
        {"accepted": result.created, "duplicates": result.duplicates, "dropped": result.dropped},
        status=status.HTTP_202_ACCEPTED,
    )


def request_body(request: HttpRequest) -> tuple[int | None, BodyStream | None]:
    """The request's declared length (``None``: not declared) and a stream of its raw body.

    With Content-Length, Django's own stream stops there. Without it (``Transfer-Encoding:
    chunked``) Django reads nothing, so we read the WSGI input itself — but only from a server that
    promises it ends where the body ends (``wsgi.input_terminated``: gunicorn does, having undone
    the chunking); anywhere else reading it could block on the connection, so that is a 411. Under
    ASGI the server has already collected the body into Django's stream. The caller still reads no
    more than one byte past ``WEBHOOK_MAX_BODY_BYTES``.
    """
    meta = request.META
    length = str(meta.get("CONTENT_LENGTH") or "")
    if length:
        try:
            declared = int(length)
        except ValueError:
            raise WebhookRejected(HTTPStatus.BAD_REQUEST, _("Content-Length is not a number.")) from None
        return declared, request  # HttpRequest.read reads from Django's length-limited stream
    if "wsgi.input" not in meta:
        return None, request
    if meta.get("wsgi.input_terminated"):
        return None, meta["wsgi.input"]
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise WebhookRejected(
            HTTPStatus.LENGTH_REQUIRED,
            _("This server cannot read a chunked body: send the request with a Content-Length."),
        )
    return 0, None


def _mark_deprecated(response: Response) -> None:
    """RFC 9745 ``Deprecation`` and RFC 8594 ``Sunset`` on every answer to the legacy header."""
    deprecated = datetime.combine(settings.WEBHOOK_LEGACY_SIGNATURE_DEPRECATED, day_start(), tzinfo=UTC)
    response["Deprecation"] = f"@{int(deprecated.timestamp())}"
    sunset = settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET
    if sunset is not None:
        response["Sunset"] = http_date(datetime.combine(sunset, day_start(), tzinfo=UTC).timestamp())
