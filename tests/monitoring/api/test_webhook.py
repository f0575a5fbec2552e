"""The signed webhook intake: signatures, payload errors, limits, idempotency."""

from __future__ import annotations

import json
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from monitoring.models import Mention, SourceHealth
from monitoring.sources import get_connector
from monitoring.sources.webhook import sign, sign_legacy
from tests.factories import SourceFactory, WatchFactory


@pytest.fixture
def source(db):
    cache.clear()
    return SourceFactory(kind="webhook", name="Brandwatch push", watch=WatchFactory(name="Acme Air"))


def mention(n: int = 1, **overrides) -> dict:
    data = {
        "external_id": f"bw-{n}",
        "text": f"Acme Air lost my bag #{n} 😡",
        "published_at": "2026-11-16T09:30:00Z",
        "url": f"https://social.example.com/@someone/{n}",
        "author": "@someone",
        "author_reach": 1200,
        "engagement": 4,
        "language": "en",
    }
    data.update(overrides)
    return data


def post(
    source,
    body,
    *,
    secret: str | None = None,
    signature: str | None = None,
    source_id: int | None = None,
    timestamp: int | None = None,
    legacy: bool = False,
    extra: dict[str, str] | None = None,
):
    """POST ``body`` signed as a sender would: ``CrisisDesk-Signature`` signed now (or at
    ``timestamp``), the deprecated ``X-CrisisDesk-Signature`` with ``legacy``, the given
    ``signature`` verbatim, or no signature with ``secret=False``; ``extra`` headers as WSGI keys."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = dict(extra or {})
    if signature is None and secret is not False:
        key = secret or source.secret
        signature = sign_legacy(key, raw) if legacy else sign(key, raw, timestamp=timestamp)
    if signature:
        headers["HTTP_X_CRISISDESK_SIGNATURE" if legacy else "HTTP_CRISISDESK_SIGNATURE"] = signature
    url = reverse("crisisdesk:source-webhook", args=[source_id or source.pk])
    # enforce_csrf_checks: the HMAC is the credential, CSRF must not get in the way
    return Client(enforce_csrf_checks=True).post(url, raw, content_type="application/json", **headers)


def test_a_good_batch_is_accepted_with_202(source):
    response = post(
        source, {"mentions": [mention(1), mention(2, language="tr", text="Rezalet! Bavulum kayıp")]}
    )

    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0, "dropped": 0}
    stored = Mention.objects.get(external_id="bw-2")
    assert (stored.text, stored.language, stored.watch_id) == (
        "Rezalet! Bavulum kayıp",
        "tr",
        source.watch_id,
    )
    source.refresh_from_db()
    assert source.health == SourceHealth.OK and source.last_success_at is not None


def test_replaying_the_same_batch_creates_no_duplicates(source):
    body = {"mentions": [mention(1), mention(2)]}
    post(source, body, timestamp=int(time.time()) - 1)

    response = post(source, body)  # signed again, as a retry should be

    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 2, "dropped": 0}
    assert Mention.objects.count() == 2


def test_a_bad_signature_is_401(source):
    response = post(source, {"mentions": [mention()]}, secret="not-the-secret")

    assert response.status_code == 401
    assert "CrisisDesk-Signature" in response.json()["detail"]
    assert response.json()["code"] == "signature_invalid"
    assert Mention.objects.count() == 0


def test_a_signature_over_a_different_body_is_401(source):
    signature = sign(source.secret, json.dumps({"mentions": []}).encode())

    response = post(source, {"mentions": [mention()]}, signature=signature)

    assert response.status_code == 401


def test_a_missing_signature_is_401(source):
    response = post(source, {"mentions": [mention()]}, secret=False)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Missing CrisisDesk-Signature header")
    assert response.json()["code"] == "signature_missing"


def test_malformed_json_is_400(source):
    response = post(source, b'{"mentions": [ {"external_id": ')

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON")


def test_a_body_without_mentions_is_400_naming_it(source):
    response = post(source, {"items": []})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("mentions:")


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"published_at": None}, "mentions[1].published_at"),
        ({"published_at": "yesterday-ish"}, "mentions[1].published_at"),
        ({"text": ""}, "mentions[1].text"),
        ({"url": "javascript:alert(1)"}, "mentions[1].url"),
        ({"author_reach": -3}, "mentions[1].author_reach"),
        ({"language": "english please"}, "mentions[1].language"),
    ],
)
def test_an_invalid_field_is_400_naming_it(source, broken, field):
    response = post(source, {"mentions": [mention(0), mention(1, **broken)]})

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")
    assert field in response.json()["errors"]
    assert Mention.objects.count() == 0  # all or nothing


def test_a_missing_field_is_400_naming_it(source):
    incomplete = mention(3)
    del incomplete["external_id"]

    response = post(source, {"mentions": [mention(0), mention(1), mention(2), incomplete]})

    assert response.status_code == 400
    assert response.json()["detail"] == "mentions[3].external_id: This field is required."


def test_a_batch_over_the_limit_is_413(source, settings):
    settings.WEBHOOK_MAX_BATCH = 3

    response = post(source, {"mentions": [mention(n) for n in range(4)]})

    assert response.status_code == 413
    assert "at most 3" in response.json()["detail"]


def test_a_body_over_the_byte_limit_is_413(source, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 2_000

    response = post(source, {"mentions": [mention(n, text="x" * 500) for n in range(5)]})

    assert response.status_code == 413


def test_a_spike_at_the_batch_limit_is_accepted(source, settings):
    settings.WEBHOOK_MAX_BATCH = 1000

    response = post(source, {"mentions": [mention(n) for n in range(1000)]})

    assert response.status_code == 202 and response.json()["accepted"] == 1000


@pytest.mark.parametrize("kind", ["rss", "import", "drill"])
def test_a_source_of_another_kind_is_404(db, kind):
    other = SourceFactory(kind=kind)

    assert post(other, {"mentions": [mention()]}).status_code == 404


def test_an_unknown_or_inactive_source_is_404(source):
    assert post(source, {"mentions": [mention()]}, source_id=987654).status_code == 404
    source.is_active = False
    source.save()
    assert post(source, {"mentions": [mention()]}).status_code == 404


def test_a_script_in_a_pushed_mention_is_stored_as_inert_text(source):
    post(
        source,
        {"mentions": [mention(1, text="<img src=x onerror=alert(1)>Acme Air <script>alert(1)</script>")]},
    )

    assert Mention.objects.get().text == "<img src=x onerror=alert(1)>Acme Air <script>alert(1)</script>"


def test_abuse_of_one_credential_is_throttled_but_only_when_signed(source, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"webhook_credential": "2/min"},
    }
    for _ in range(5):  # strangers with bad signatures do not use up the sender's quota
        assert post(source, {"mentions": []}, secret="guess").status_code == 401

    codes = [post(source, {"mentions": [mention(n)]}).status_code for n in range(3)]

    assert codes == [202, 202, 429]


def test_the_connector_validates_the_expected_interval():
    connector = get_connector("webhook")

    assert connector.pull is False
    assert connector.validate_config({"expected_interval_minutes": "30"}) == {"expected_interval_minutes": 30}
    assert connector.validate_config({"expected_interval_minutes": ""}) == {}
    with pytest.raises(ValidationError) as raised:
        connector.validate_config({"expected_interval_minutes": "soon"})
    assert "expected_interval_minutes" in raised.value.message_dict


@pytest.mark.parametrize(
    "hostile",
    [
        {"unknown\x00key": "value"},
        {"unknown": "nul \x00 inside"},
        {"unknown": "lone surrogate \ud800 inside"},
        {"lone \udfff key": 1},
    ],
    ids=["nul-in-key", "nul-in-value", "surrogate-in-value", "surrogate-in-key"],
)
def test_nul_and_lone_surrogates_in_unknown_keys_are_stored_clean(source, hostile):
    body = json.dumps({"mentions": [mention(1, **hostile)]}).encode()  # ensure_ascii: valid JSON escapes

    response = post(source, body)

    assert response.status_code == 202
    raw = Mention.objects.get(source=source).raw
    assert "\x00" not in json.dumps(raw, ensure_ascii=False)


def test_deep_nesting_is_400_not_a_crash(source):
    deep = b'{"mentions": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"

    response = post(source, deep)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON")


def test_nesting_past_the_limit_is_400(source):
    nested: dict = {"leaf": 1}
    for _ in range(40):
        nested = {"deeper": nested}

    response = post(source, {"mentions": [mention(1, extra=nested)]})

    assert response.status_code == 400
