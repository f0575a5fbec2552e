"""The signed webhook's use case: a sender's raw body in, its mentions stored, the source alive.

The endpoint (``monitoring.api.webhook``) only reads the HTTP request and turns the answer into a
response; the decisions are here, in the order docs/webhook.md documents them: an active webhook
source (404), a body within ``WEBHOOK_MAX_BODY_BYTES`` (413), a well-formed signature (401) whose
timestamp is within ``WEBHOOK_SIGNATURE_TOLERANCE_SECONDS`` of now (401) and whose HMAC is right
(401), a signature not already accepted (409, ``webhook_claim``), then (after the endpoint's
per-credential quota) valid JSON holding a batch of at most ``WEBHOOK_MAX_BATCH`` valid mentions
(400, 413). Nothing refused before the quota counts against it. A batch is all or nothing; a spike
is never refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from crisisdesk.links import URL_MAX, safe_url
from monitoring.intake.ingest import IngestResult, ingest_items
from monitoring.intake.normalise import AUTHOR_MAX, EXTERNAL_ID_MAX, TEXT_MAX, language_tag
from monitoring.intake.polling import record_push
from monitoring.intake.webhook_guard import signature_claim, signature_release
from monitoring.models import Source, SourceKind
from monitoring.sources.base import Item
from monitoring.sources.webhook import (
    LEGACY_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    MalformedSignature,
    legacy_signature_valid,
    matching_signature,
    parse_signature_header,
)


class BodyStream(Protocol):
    """Where a request's raw body is read from: Django's request, or a WSGI input."""

    def read(self, size: int, /) -> bytes: ...


class WebhookRejected(Exception):
    """A request the webhook answers with an error: its HTTP ``status``, the ``message`` a sender
    reads as ``detail``, ``headers`` for the response (``Retry-After``), and ``extra`` body fields
    (``code``: which refusal, for programs; ``errors``: every bad field, by name)."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


@dataclass(frozen=True)
class SignedBody:
    """A body that passed the signature check of its (active webhook) source.

    ``signature`` is the ``v1`` digest that matched and ``signed_at`` its timestamp; a body signed
    with the deprecated header has ``legacy=True`` and no ``signed_at``.
    """

    source: Source
    body: bytes
    signature: str
    signed_at: int | None = None
    legacy: bool = False


def legacy_signature_retired(*, today: datetime | None = None) -> bool:
    """Whether ``X-CrisisDesk-Signature`` is past ``WEBHOOK_LEGACY_SIGNATURE_SUNSET`` (UTC)."""
    sunset = settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET
    return sunset is None or (today or datetime.now(UTC)).date() >= sunset


def webhook_authenticate(
    *,
    source_id: int,
    declared_length: int | None,
    stream: BodyStream | None,
    signature: str | None,
    legacy_signature: str | None = None,
    now: float | None = None,
) -> SignedBody:
    """Read at most ``WEBHOOK_MAX_BODY_BYTES`` of ``stream`` and check its signature for ``source_id``.

    ``declared_length`` is the request's Content-Length (``None`` when absent, as with a chunked
    body): a body declared too large is refused before a byte of it is read, and any body is read
    no further than one byte past the limit. ``signature`` is the ``CrisisDesk-Signature`` header;
    ``legacy_signature`` the deprecated ``X-CrisisDesk-Signature``, checked only without the new one.
    ``now`` is the server's Unix time (tests pass it). Raises ``WebhookRejected`` (404, 413, 401).
    """
    source = (
        Source.objects.select_related("watch")
        .filter(pk=source_id, kind=SourceKind.WEBHOOK, is_active=True)
        .first()
    )
    if source is None:
        raise WebhookRejected(HTTPStatus.NOT_FOUND, "No active webhook source with this id.")
    max_bytes = settings.WEBHOOK_MAX_BODY_BYTES
    if declared_length is not None and declared_length > max_bytes:
        raise _body_too_large(max_bytes)
    body = stream.read(max_bytes + 1) if stream is not None else b""  # raw bytes: the signature covers them
    if len(body) > max_bytes:  # a sender that declared less than it sent, or declared nothing
        raise _body_too_large(max_bytes)
    if signature:
        return _check_signature(
            source, body, signature, now=datetime.now(UTC).timestamp() if now is None else now
        )
    if legacy_signature:
        return _check_legacy_signature(source, body, legacy_signature)
    raise _unauthorized(
        "signature_missing",
        _('Missing %(header)s header: sign t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">.')
        % {"header": SIGNATURE_HEADER},
    )


def _check_signature(source: Source, body: bytes, header: str, *, now: float) -> SignedBody:
    try:
        parsed = parse_signature_header(header)
    except MalformedSignature as error:
        raise _unauthorized(
            "signature_malformed",
            _("Malformed %(header)s header: %(problem)s. Expected t=<unix seconds>,v1=<hex HMAC-SHA256>.")
            % {"header": SIGNATURE_HEADER, "problem": error},
        ) from error
    tolerance = settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS
    skew = parsed.timestamp - now
    if abs(skew) > tolerance:
        # Checked before the HMAC: a stale request is refused for its age whoever signed it.
        raise _unauthorized(
            "timestamp_outside_tolerance",
            _(
                "The signature's timestamp t=%(signed)s is %(seconds)d s %(direction)s the server's clock "
                "(now %(now)d); requests signed more than %(tolerance)d s away from now are refused. "
                "Sign each request when you send it, with the current Unix time."
            )
            % {
                "signed": parsed.timestamp,
                "seconds": abs(skew),
                "direction": _("ahead of") if skew > 0 else _("behind"),
                "now": now,
                "tolerance": tolerance,
            },
        )
    matched = matching_signature(source.secret, parsed.timestamp, body, parsed.signatures)
    if matched is None:
        raise _unauthorized(
            "signature_invalid",
            _(
                'Bad %(header)s: no v1 is the hex HMAC-SHA256 of "<t>.<raw body>" with the source '
                "secret (sign the exact bytes you send)."
            )
            % {"header": SIGNATURE_HEADER},
        )
    return SignedBody(source=source, body=body, signature=matched, signed_at=parsed.timestamp)


def _check_legacy_signature(source: Source, body: bytes, header: str) -> SignedBody:
    if legacy_signature_retired():
        raise _unauthorized(
            "legacy_signature_retired",
            _(
                "%(legacy)s was retired on %(sunset)s: sign with %(header)s: t=<unix seconds>,v1=<hex> instead."
            )
            % {
                "legacy": LEGACY_SIGNATURE_HEADER,
                "sunset": settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET or _("an earlier date"),
                "header": SIGNATURE_HEADER,
            },
        )
    if not legacy_signature_valid(source.secret, body, header):
        raise _unauthorized(
            "signature_invalid",
            _("Bad %(legacy)s: expected sha256=<hex HMAC-SHA256 of the raw body with the source secret>.")
            % {"legacy": LEGACY_SIGNATURE_HEADER},
        )
    return SignedBody(source=source, body=body, signature=header.strip(), legacy=True)


def webhook_claim(*, signed: SignedBody, now: float | None = None) -> None:
    """Remember a timestamped signature until its timestamp leaves the window; raise 409 if it was
    already remembered — the same signed request again, whoever sends it.

    Runs before the quota is charged, so a replayed request costs the sender nothing. A legacy
    signature is not remembered: without a timestamp it would have to be remembered forever, and
    a sender's identical bodies (an empty keep-alive batch) would be refused as replays.
    """
    if signed.legacy or signed.signed_at is None:
        return
    current = datetime.now(UTC).timestamp() if now is None else now
    # Valid until t + tolerance; a second past it the timestamp check refuses the copy anyway.
    remember = int(signed.signed_at + settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS - current) + 1
    if not signature_claim(source_id=signed.source.pk, signature=signed.signature, remember_seconds=remember):
        raise WebhookRejected(
            HTTPStatus.CONFLICT,
            _(
                "This signed request was already accepted (or is being processed): the same signature "
                "is accepted once. To send the batch again, sign it again with the current time."
            ),
            code="signature_replayed",
        )


def webhook_release(*, signed: SignedBody) -> None:
    """Forget a claimed signature because its request was not accepted (refused, throttled, or
    the database failed), so the sender may retry exactly the same signed request."""
    if not signed.legacy:
        signature_release(source_id=signed.source.pk, signature=signed.signature)


def _unauthorized(code: str, message: str) -> WebhookRejected:
    return WebhookRejected(HTTPStatus.UNAUTHORIZED, message, code=code)


def _body_too_large(max_bytes: int) -> WebhookRejected:
    return WebhookRejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {max_bytes} bytes.")


# Deeper than any real payload; the JSON parser itself gives up near 1,000 levels (RecursionError).
JSON_MAX_DEPTH = 32


def json_storable(value: Any, depth: int = 0) -> Any:
    """``value`` with every string (keys included) made storable: NUL characters dropped and lone
    surrogates replaced, since PostgreSQL's ``jsonb`` and UTF-8 refuse both. Raises ``ValueError``
    past ``JSON_MAX_DEPTH`` levels of nesting. Unknown keys are kept (in ``raw``), so they are
    cleaned too, not only the fields the serializer reads."""
    if depth > JSON_MAX_DEPTH:
        raise ValueError(f"nested deeper than {JSON_MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, list):
        return [json_storable(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {json_storable(key, depth + 1): json_storable(item, depth + 1) for key, item in value.items()}
    return value


def webhook_accept(*, signed: SignedBody) -> IngestResult:
    """Validate the signed batch and store it; raises ``WebhookRejected`` (400, 413) naming the field.

    Two transactions, as on every push path: the mentions commit through ``ingest_items`` first, so
    a stored batch stays stored whatever happens next, then the source is recorded alive.
    """
    try:
        payload = json_storable(json.loads(signed.body))
    except RecursionError as error:
        raise WebhookRejected(HTTPStatus.BAD_REQUEST, "Malformed JSON: nested too deeply.") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(HTTPStatus.BAD_REQUEST, f"Malformed JSON: {error}") from error
    if not isinstance(payload, dict) or "mentions" not in payload:
        raise WebhookRejected(HTTPStatus.BAD_REQUEST, 'mentions: required (the body is {"mentions": [...]}).')
    if not isinstance(payload["mentions"], list):
        raise WebhookRejected(HTTPStatus.BAD_REQUEST, "mentions: must be a list.")
    if len(payload["mentions"]) > settings.WEBHOOK_MAX_BATCH:
        raise WebhookRejected(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"mentions: at most {settings.WEBHOOK_MAX_BATCH} per request; split the batch.",
        )
    batch = WebhookBatchSerializer(data=payload)
    if not batch.is_valid():
        errors = flatten_errors(batch.errors)
        first_field, messages = next(iter(errors.items()))
        raise WebhookRejected(HTTPStatus.BAD_REQUEST, f"{first_field}: {' '.join(messages)}", errors=errors)

    result = ingest_items(source=signed.source, items=batch.items(payload["mentions"]))
    record_push(source=signed.source)
    return result


# --- The batch a sender pushes (docs/webhook.md) ----------------------------------------------------


class WebhookMentionSerializer(serializers.Serializer[dict[str, Any]]):
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


class WebhookBatchSerializer(serializers.Serializer[dict[str, Any]]):
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
