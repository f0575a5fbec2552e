"""Channel plug-ins against a real receiver on 127.0.0.1 and Django's locmem mail backend."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from incidents.notifications.channels import (
    CHANNELS,
    PermanentError,
    TemporaryError,
    get_channel,
    slack_escape,
    teams_escape,
)
from incidents.notifications.routing import build_payload
from tests.factories import IncidentFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel, start_receiver

HOSTILE_TITLE = "<script>alert(1)</script> & <!channel> *Boykot* [klik](http://evil.example) zażółć"


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def payload(db, settings):
    settings.SITE_URL = "https://desk.example.org"
    incident = IncidentFactory(watch=WatchFactory(name="Acme Air"), title=HOSTILE_TITLE, severity=1)
    return build_payload(incident=incident, key="opened")


def test_every_kind_has_a_plugin():
    assert set(CHANNELS) == {"email", "slack", "teams", "webhook", "subscribers"}
    with pytest.raises(PermanentError):
        get_channel("pager")


def test_slack_gets_block_kit_with_the_title_escaped_and_a_link(receiver, payload):
    channel = make_channel(kind="slack", url=receiver.url)
    CHANNELS["slack"].send(channel=channel, payload=payload)

    [request] = receiver.requests
    assert request.path == "/hook/secret-path"
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.json()
    first = body["blocks"][0]["text"]["text"]
    incident_url = f"https://desk.example.org/incidents/{payload['incident']['id']}/"
    assert f"<{incident_url}|" in first
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in first
    assert "<script>" not in first and "<!channel>" not in first
    fields = " ".join(f["text"] for f in body["blocks"][1]["fields"])
    assert "SEV1" in fields and "Acme Air" in fields
    assert body["blocks"][2]["elements"][0]["url"] == incident_url
    assert "zażółć" in body["text"]


def test_teams_gets_an_adaptive_card_with_markdown_neutralised(receiver, payload):
    channel = make_channel(kind="teams", url=receiver.url)
    CHANNELS["teams"].send(channel=channel, payload=payload)

    body = receiver.requests[0].json()
    assert body["type"] == "message"
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title = card["body"][1]["text"]
    assert "\\[klik\\]\\(http://evil.example\\)" in title
    assert "\\*Boykot\\*" in title and "\\<script\\>" in title
    assert card["actions"][0]["url"].startswith("https://desk.example.org/incidents/")


def test_the_json_webhook_is_signed_over_its_body_with_a_timestamp(receiver, payload):
    channel = make_channel(kind="webhook", url=receiver.url)
    CHANNELS["webhook"].send(channel=channel, payload=payload, delivery_id=42)

    request = receiver.requests[0]
    expected = "sha256=" + hmac.new(channel.secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-CrisisDesk-Signature"], expected)
    body = request.json()
    assert request.headers["X-CrisisDesk-Timestamp"] == str(body["timestamp"])
    assert request.headers["X-CrisisDesk-Delivery"] == "42"
    assert body["event"] == "opened"
    assert body["incident"]["title"] == HOSTILE_TITLE  # JSON carries the raw text; the receiver escapes it
    # A tampered body no longer matches.
    forged = "sha256=" + hmac.new(b"wrong-secret", request.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(forged, expected)


def test_a_server_error_is_temporary(receiver, payload):
    receiver.answer((503, {}, "upstream down"))
    channel = make_channel(kind="slack", url=receiver.url)
    with pytest.raises(TemporaryError, match="HTTP 503") as caught:
        CHANNELS["slack"].send(channel=channel, payload=payload)
    assert caught.value.retry_after is None
    assert "secret-path" not in str(caught.value)  # webhook paths are secrets: never in errors


def test_too_many_requests_is_temporary_with_the_receivers_retry_after(receiver, payload):
    receiver.answer((429, {"Retry-After": "7"}, "slow down"))
    channel = make_channel(kind="webhook", url=receiver.url)
    with pytest.raises(TemporaryError) as caught:
        CHANNELS["webhook"].send(channel=channel, payload=payload)
    assert caught.value.retry_after == 7


def test_a_client_error_is_permanent(receiver, payload):
    receiver.answer((400, {}, "invalid_payload"))
    channel = make_channel(kind="slack", url=receiver.url)
    with pytest.raises(PermanentError, match=r"HTTP 400.*invalid_payload"):
        CHANNELS["slack"].send(channel=channel, payload=payload)


def test_a_redirect_is_not_followed_and_is_permanent(receiver, payload):
    receiver.answer((301, {"Location": "http://127.0.0.1:9/elsewhere"}, ""))
    channel = make_channel(kind="teams", url=receiver.url)
    with pytest.raises(PermanentError, match="moved"):
        CHANNELS["teams"].send(channel=channel, payload=payload)
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_temporary(payload):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = make_channel(kind="webhook", url=f"http://127.0.0.1:{port}/hook")
    with pytest.raises(TemporaryError, match="Could not reach"):
        CHANNELS["webhook"].send(channel=channel, payload=payload)


def test_email_goes_to_the_addresses_as_text_and_escaped_html(payload, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel = make_channel(kind="email", addresses=["desk@example.com", "szef@example.pl"])
    CHANNELS["email"].send(channel=channel, payload=payload)

    [message] = mail.outbox
    assert message.to == ["desk@example.com", "szef@example.pl"]
    assert "\n" not in message.subject and message.subject.startswith("[CrisisDesk] SEV1 Incident opened")
    assert HOSTILE_TITLE in message.body  # plain text is not HTML: no escaping needed or wanted
    assert "https://desk.example.org/incidents/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "zażółć" in html


def test_a_newline_in_the_title_cannot_inject_mail_headers(payload, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    payload["incident"]["title"] = "Outage\nBcc: victim@example.com"
    channel = make_channel(kind="email", addresses=["desk@example.com"])
    CHANNELS["email"].send(channel=channel, payload=payload)
    [message] = mail.outbox
    assert message.bcc == [] and "Bcc: victim" in message.subject


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("slack", {"url": "javascript:alert(1)"}, "url"),
        ("teams", {"url": "ftp://example.com/hook"}, "url"),
        ("webhook", {}, "url"),
        (
            "webhook",
            {"url": "https://hooks.example.com/x", "escalate_after_minutes": "soon"},
            "escalate_after_minutes",
        ),
        ("email", {"addresses": "desk@example.com\nnot-an-address"}, "addresses"),
        ("email", {"addresses": []}, "addresses"),
    ],
)
def test_config_validation_names_the_bad_field(kind, config, field):
    with pytest.raises(ValidationError) as caught:
        CHANNELS[kind].validate_config(config)
    assert field in caught.value.message_dict


def test_config_validation_cleans_good_input():
    cleaned = CHANNELS["email"].validate_config({"addresses": "a@example.com, b@example.com;a@example.com"})
    assert cleaned["addresses"] == ["a@example.com", "b@example.com"]
    assert cleaned["escalate_after_minutes"] == 15
    cleaned = CHANNELS["slack"].validate_config(
        {"url": " https://hooks.slack.com/services/T/B/X ", "escalate_after_minutes": "30"}
    )
    assert cleaned == {"url": "https://hooks.slack.com/services/T/B/X", "escalate_after_minutes": 30}


def test_escaping_helpers():
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert teams_escape("- list **bold** [x](y)") == "\\- list \\*\\*bold\\*\\* \\[x\\]\\(y\\)"
    assert teams_escape("Kebocoran data pelanggan") == "Kebocoran data pelanggan"
