"""Notification channels: one plug-in per kind, registered in ``CHANNELS``.

Each plug-in validates its config and sends one message built from a delivery's payload (see
``services.build_payload``). A failed send raises ``DeliveryError`` saying whether retrying can help:
``TemporaryError`` (timeouts, 5xx, 429) is retried with backoff, ``PermanentError`` (4xx, bad config,
refused recipients) fails the delivery at once.

Payload text such as the incident title can come from a stranger's mention: every format escapes
it for its own markup (Slack mrkdwn, Teams Markdown, HTML email).

Webhooks are sent through ``crisisdesk.outbound`` (no redirects followed): a URL that points at a
private address is refused when the channel is saved and, whatever DNS says later, when it is sent
(a permanent failure, shown in the delivery log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMessage, EmailMultiAlternatives
from django.core.validators import URLValidator, validate_email
from django.template.loader import render_to_string

from crisisdesk import outbound
from incidents.publishing.emails import build_subscriber_email

if TYPE_CHECKING:
    from incidents.models import NotificationChannel

# Seconds: connecting should be quick; a slow receiver must not hold a worker for long.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "CrisisDesk-Notifier/1.0"
SIGNATURE_HEADER = "X-CrisisDesk-Signature"
TIMESTAMP_HEADER = "X-CrisisDesk-Timestamp"
DELIVERY_HEADER = "X-CrisisDesk-Delivery"
DEFAULT_ESCALATE_AFTER_MINUTES = 15
MAX_RETRY_AFTER_SECONDS = 3600
# A receiver's answer is a status and a line of text; anything bigger or slower is not a receiver.
MAX_ANSWER_BYTES = 1024 * 1024
SEND_DEADLINE_SECONDS = 30.0


class DeliveryError(Exception):
    """A send failed. ``permanent`` says whether retrying can help; ``retry_after`` is the receiver's ask."""

    permanent: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TemporaryError(DeliveryError):
    """Timeouts, connection errors, 5xx, 429: try again later."""

    permanent = False


class PermanentError(DeliveryError):
    """A 4xx, a refused address, a broken config: retrying sends the same doomed request."""

    permanent = True


def sign_body(secret: str, body: bytes) -> str:
    """The value of the signature header: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control (links, mentions, entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_MARKDOWN = set("\\`*_[]()~<>")
_TEAMS_LINE_START = re.compile(r"^(\s*)([-+#>]|\d+\.)")


def teams_escape(text: str) -> str:
    """Backslash-escape the Markdown Teams cards honour (bold, italics, links, lists, ``<at>``
    mentions) so stranger text shows literally."""
    escaped = "".join("\\" + ch if ch in _TEAMS_MARKDOWN else ch for ch in text)
    return _TEAMS_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _one_line(text: str, limit: int = 200) -> str:
    """Collapse newlines (an email subject must be one line) and trim."""
    return " ".join(str(text).split())[:limit]


def _retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def _validate_http_url(value: Any, field: str) -> str:
    url = str(value or "").strip()
    if not url:
        raise ValidationError({field: "A webhook URL is required."})
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValidationError({field: "The URL must start with http:// or https://."})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError({field: "Enter a valid http(s) URL."}) from exc
    problem = outbound.url_refusal(url)
    if problem:
        raise ValidationError({field: problem})
    return url


def _validate_escalation(config: dict[str, Any]) -> int:
    raw = config.get("escalate_after_minutes", DEFAULT_ESCALATE_AFTER_MINUTES)
    if raw in (None, ""):
        return DEFAULT_ESCALATE_AFTER_MINUTES
    try:
        minutes = int(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"escalate_after_minutes": "Enter a whole number of minutes."}) from exc
    if not 1 <= minutes <= 7 * 24 * 60:
        raise ValidationError({"escalate_after_minutes": "Use between 1 minute and 7 days."})
    return minutes


def describe_target(url: str) -> str:
    """A URL reduced to scheme and host, for pages and errors: webhook paths are secrets."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


class Channel:
    """Base class for channel plug-ins."""

    kind: ClassVar[str] = ""

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Return the cleaned config or raise ``ValidationError`` naming the bad field."""
        return {"escalate_after_minutes": _validate_escalation(config)}

    def send(
        self, *, channel: NotificationChannel, payload: dict[str, Any], delivery_id: int | None = None
    ) -> None:
        """Deliver one message; raise ``DeliveryError`` on failure."""
        raise NotImplementedError

    def target(self, config: dict[str, Any]) -> str:
        """Where messages go, safe to show on a page."""
        return ""


class HttpChannel(Channel):
    """Shared by the webhook kinds: POST JSON, map the answer to success / temporary / permanent."""

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        cleaned = super().validate_config(config)
        cleaned["url"] = _validate_http_url(config.get("url"), "url")
        return cleaned

    def target(self, config: dict[str, Any]) -> str:
        return describe_target(str(config.get("url", "")))

    def body(self, *, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def headers(
        self, *, channel: NotificationChannel, body: bytes, payload: dict[str, Any], delivery_id: int | None
    ) -> dict[str, str]:
        return {}

    def send(
        self, *, channel: NotificationChannel, payload: dict[str, Any], delivery_id: int | None = None
    ) -> None:
        url = str((channel.config or {}).get("url", ""))
        if urlsplit(url).scheme not in ("http", "https"):
            raise PermanentError("The channel has no valid http(s) URL configured.")
        body = json.dumps(self.body(payload=payload), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        headers.update(self.headers(channel=channel, body=body, payload=payload, delivery_id=delivery_id))
        where = describe_target(url)
        try:
            with outbound.client(
                timeout=HTTP_TIMEOUT,
                follow_redirects=False,
                max_bytes=MAX_ANSWER_BYTES,
                deadline=SEND_DEADLINE_SECONDS,
            ) as client:
                response = client.post(url, content=body, headers=headers)
        except outbound.OutboundError as exc:  # a private address: sending again changes nothing
            raise PermanentError(f"{where}: {exc}.") from exc
        except httpx.TimeoutException as exc:
            raise TemporaryError(f"Timed out talking to {where}.") from exc
        except httpx.HTTPError as exc:
            raise TemporaryError(f"Could not reach {where}: {type(exc).__name__}.") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = _one_line(response.text, 200)
        message = f"HTTP {status} from {where}" + (f": {detail}" if detail else "")
        if status == 429 or status == 408 or status >= 500:
            raise TemporaryError(
                message, retry_after=_retry_after_seconds(response.headers.get("Retry-After"))
            )
        if 300 <= status < 400:
            raise PermanentError(f"HTTP {status} from {where}: the webhook moved; update the channel's URL.")
        raise PermanentError(message)


class SlackChannel(HttpChannel):
    """Slack incoming webhook, Block Kit message."""

    kind = "slack"

    def body(self, *, payload: dict[str, Any]) -> dict[str, Any]:
        incident = payload["incident"]
        title = slack_escape(_one_line(incident["title"]))
        watch = slack_escape(_one_line(incident["watch"]))
        headline = f"{payload['event_label']}: SEV{incident['severity']} · {title}"
        return {
            "text": headline,  # the notification preview and the fallback for old clients
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"*{slack_escape(payload['event_label'])}*\n<{incident['url']}|{title}>",
                    },
                },
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*Severity*\n{slack_escape(incident['severity_label'])}"},
                        {"type": "mrkdwn", "text": f"*Watch*\n{watch}"},
                        {"type": "mrkdwn", "text": f"*Status*\n{slack_escape(incident['status_label'])}"},
                        {"type": "mrkdwn", "text": f"*Tier*\n{incident['escalation_tier']}"},
                    ],
                },
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Open incident"},
                            "url": incident["url"],
                        }
                    ],
                },
            ],
        }


class TeamsChannel(HttpChannel):
    """Microsoft Teams incoming webhook (Workflows), one Adaptive Card."""

    kind = "teams"

    def body(self, *, payload: dict[str, Any]) -> dict[str, Any]:
        incident = payload["incident"]
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": teams_escape(payload["event_label"]),
                    "weight": "Bolder",
                    "color": "Attention" if incident["severity"] <= 2 else "Default",
                },
                {
                    "type": "TextBlock",
                    "text": teams_escape(_one_line(incident["title"])),
                    "size": "Large",
                    "wrap": True,
                },
                {
                    "type": "FactSet",
                    "facts": [
                        {"title": "Severity", "value": teams_escape(incident["severity_label"])},
                        {"title": "Watch", "value": teams_escape(_one_line(incident["watch"]))},
                        {"title": "Status", "value": teams_escape(incident["status_label"])},
                        {"title": "Tier", "value": str(incident["escalation_tier"])},
                    ],
                },
            ],
            "actions": [{"type": "Action.OpenUrl", "title": "Open incident", "url": incident["url"]}],
        }
        return {
            "type": "message",
            "summary": _one_line(f"{payload['event_label']}: {incident['title']}", 150),
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }


class WebhookChannel(HttpChannel):
    """Generic JSON webhook, signed so the receiver can tell it came from us.

    ``X-CrisisDesk-Signature: sha256=<hex HMAC-SHA256 of the raw body with the channel's secret>``.
    The body carries ``timestamp`` too (equal to ``X-CrisisDesk-Timestamp``), so the signature covers
    it and a receiver can refuse old replays.
    """

    kind = "webhook"

    def body(self, *, payload: dict[str, Any]) -> dict[str, Any]:
        return {"timestamp": int(time.time()), **payload}

    def headers(
        self, *, channel: NotificationChannel, body: bytes, payload: dict[str, Any], delivery_id: int | None
    ) -> dict[str, str]:
        timestamp = json.loads(body)["timestamp"]
        headers = {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign_body(channel.secret, body)}
        if delivery_id is not None:
            headers[DELIVERY_HEADER] = str(delivery_id)  # lets receivers drop a retried duplicate
        return headers


class EmailChannel(Channel):
    """Email to configured addresses through Django's mail backend (plain text + simple HTML)."""

    kind = "email"

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        cleaned = super().validate_config(config)
        raw = config.get("addresses", [])
        if isinstance(raw, str):
            raw = raw.replace(",", "\n").replace(";", "\n").split("\n")
        addresses = [str(a).strip() for a in raw if str(a).strip()]
        if not addresses:
            raise ValidationError({"addresses": "Give at least one email address."})
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError({"addresses": f"Not a valid email address: {address[:80]}"}) from exc
        cleaned["addresses"] = list(dict.fromkeys(addresses))
        return cleaned

    def target(self, config: dict[str, Any]) -> str:
        return ", ".join(config.get("addresses", []))

    def send(
        self, *, channel: NotificationChannel, payload: dict[str, Any], delivery_id: int | None = None
    ) -> None:
        addresses = list((channel.config or {}).get("addresses", []))
        if not addresses:
            raise PermanentError("The channel has no email addresses configured.")
        incident = payload["incident"]
        subject = _one_line(
            f"[CrisisDesk] SEV{incident['severity']} {payload['event_label']}: {incident['title']}"
        )
        context = {"payload": payload, "incident": incident}
        text = render_to_string("incidents/notifications/email.txt", context)
        html = render_to_string("incidents/notifications/email.html", context)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, addresses)
        message.attach_alternative(html, "text/html")
        send_email(message)


def send_email(message: EmailMessage) -> None:
    """Hand ``message`` to Django's mail backend, saying whether a failure is worth retrying."""
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, BadHeaderError) as exc:
        raise PermanentError(f"The mail server refused the message: {type(exc).__name__}.") from exc
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP {exc.smtp_code} from the mail server."
        raise (PermanentError(error) if 500 <= exc.smtp_code < 600 else TemporaryError(error)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryError(f"Could not hand the message to the mail server: {type(exc).__name__}.") from exc


class SubscriberEmailChannel(Channel):
    """A dark site's emails to its subscribers (confirmation, each update), built at send time
    from the ids in the payload (``incidents.publishing.emails``). A subscriber who unsubscribed
    meanwhile is a permanent failure that says so: nothing is sent."""

    kind = "subscribers"

    def target(self, config: dict[str, Any]) -> str:
        return "the dark site's confirmed subscribers"

    def send(
        self, *, channel: NotificationChannel, payload: dict[str, Any], delivery_id: int | None = None
    ) -> None:
        message = build_subscriber_email(payload)
        if isinstance(message, str):
            raise PermanentError(f"Not sent: {message}")
        send_email(message)


CHANNELS: dict[str, Channel] = {
    plugin.kind: plugin
    for plugin in (EmailChannel(), SlackChannel(), TeamsChannel(), WebhookChannel(), SubscriberEmailChannel())
}


def get_channel(kind: str) -> Channel:
    """The plug-in for a channel kind; ``PermanentError`` for an unknown kind (a config problem)."""
    try:
        return CHANNELS[kind]
    except KeyError:
        raise PermanentError(f"Unknown channel kind {kind!r}.") from None
