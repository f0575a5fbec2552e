"""The signed webhook: other systems push batches of mentions (see docs/webhook.md).

The credential is an HMAC-SHA256 with the source's secret over a timestamp and the raw body,
sent as ``CrisisDesk-Signature: t=<unix seconds>,v1=<hex>`` (the shape Stripe made familiar). The
timestamp is what lets the endpoint refuse a captured request replayed later. The older
``X-CrisisDesk-Signature: sha256=<hex of the body alone>`` is still checked during its deprecation
period (``WEBHOOK_LEGACY_SIGNATURE_SUNSET``). The endpoint is ``monitoring.api.webhook`` and what it
accepts is decided in ``monitoring.intake.webhook``; this connector signs, parses and checks
signatures, and describes and validates the config.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from monitoring.sources.base import Connector

SIGNATURE_HEADER = "CrisisDesk-Signature"
SIGNATURE_SCHEME = "v1"
# The deprecated header: an HMAC of the body alone, so a captured request stays valid forever.
LEGACY_SIGNATURE_HEADER = "X-CrisisDesk-Signature"
LEGACY_SIGNATURE_PREFIX = "sha256="
# A sender may sign with more than one secret at once (several v1 entries); more than this many is
# not rotation but someone making us compute HMACs.
MAX_SIGNATURES = 5
MAX_HEADER_LENGTH = 1024
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}", re.IGNORECASE)
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class MalformedSignature(ValueError):
    """The signature header is not ``t=<unix seconds>,v1=<64 hex digits>[,v1=…]``; the message says how."""


@dataclass(frozen=True)
class SignatureHeader:
    """A parsed ``CrisisDesk-Signature``: the signed Unix time and the candidate ``v1`` digests."""

    timestamp: int
    signatures: tuple[str, ...]


def signed_payload(timestamp: int, body: bytes) -> bytes:
    """The bytes the HMAC covers: ``b"<timestamp>." + body``."""
    return str(timestamp).encode() + b"." + body


def signature_digest(secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` digest of ``body`` signed at ``timestamp`` with ``secret``."""
    return hmac.new(secret.encode(), signed_payload(timestamp, body), hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``CrisisDesk-Signature`` value a sender puts on ``body``, signed now unless ``timestamp``."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    return f"t={signed_at},{SIGNATURE_SCHEME}={signature_digest(secret, signed_at, body)}"


def parse_signature_header(value: str) -> SignatureHeader:
    """Parse ``t=…,v1=…[,v1=…]``; unknown schemes (a future ``v2``) are ignored, as Stripe does.

    Raises ``MalformedSignature`` naming what is wrong.
    """
    if len(value) > MAX_HEADER_LENGTH:
        raise MalformedSignature(f"longer than {MAX_HEADER_LENGTH} characters")
    if value.strip().startswith(LEGACY_SIGNATURE_PREFIX):
        raise MalformedSignature(f"{LEGACY_SIGNATURE_PREFIX}… is the old {LEGACY_SIGNATURE_HEADER} format")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        name, separator, item = part.strip().partition("=")
        if not separator:
            raise MalformedSignature(f"{part.strip()[:20]!r} is not a key=value pair")
        if name == "t":
            if timestamp is not None:
                raise MalformedSignature("t= appears more than once")
            if not _UNIX_SECONDS.fullmatch(item):
                raise MalformedSignature("t= must be the signing time in whole Unix seconds")
            timestamp = int(item)
        elif name == SIGNATURE_SCHEME:
            if not _HEX_SHA256.fullmatch(item):
                raise MalformedSignature("v1= must be 64 hex digits (HMAC-SHA256)")
            signatures.append(item.lower())
    if timestamp is None:
        raise MalformedSignature("t=<unix seconds> is missing")
    if not signatures:
        raise MalformedSignature("v1=<hex HMAC-SHA256> is missing")
    if len(signatures) > MAX_SIGNATURES:
        raise MalformedSignature(f"at most {MAX_SIGNATURES} v1= signatures")
    return SignatureHeader(timestamp=timestamp, signatures=tuple(signatures))


def matching_signature(secret: str, timestamp: int, body: bytes, candidates: Sequence[str]) -> str | None:
    """The candidate that is the right digest for ``body`` at ``timestamp``, or ``None``.

    Every candidate is compared in constant time, and all of them are compared, so the answer's
    timing does not tell which position matched.
    """
    if not secret:
        return None
    expected = signature_digest(secret, timestamp, body).encode()
    found: str | None = None
    for candidate in candidates:
        if hmac.compare_digest(expected, candidate.encode()) and found is None:
            found = candidate
    return found


def sign_legacy(secret: str, body: bytes) -> str:
    """The deprecated ``X-CrisisDesk-Signature`` value for ``body`` (no timestamp: replayable)."""
    return LEGACY_SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def legacy_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of a deprecated ``X-CrisisDesk-Signature`` header against the body."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign_legacy(secret, body).encode(), header.strip().encode())


class WebhookConnector(Connector):
    kind = "webhook"
    pull = False
    config_fields = {
        "expected_interval_minutes": (
            "Expected interval (minutes)",
            False,
            "Mark the source silent when no mention arrives for this long. Leave empty for none.",
        ),
    }

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = dict(config or {})
        value = config.get("expected_interval_minutes")
        if value is None or value == "":
            config.pop("expected_interval_minutes", None)
            return config
        try:
            minutes = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"expected_interval_minutes": "Enter a whole number of minutes."}) from None
        if not 1 <= minutes <= 60 * 24 * 30:
            raise ValidationError({"expected_interval_minutes": "Enter between 1 minute and 30 days."})
        config["expected_interval_minutes"] = minutes
        return config
