"""The timestamped webhook signature: the window, every refusal, replays, the quota, the old header."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from datetime import date

import pytest
from django.core.cache import cache

from monitoring.models import Mention
from monitoring.sources.webhook import (
    MAX_SIGNATURES,
    MalformedSignature,
    parse_signature_header,
    sign,
    signature_digest,
)
from tests.factories import SourceFactory, WatchFactory
from tests.monitoring.api.test_webhook import mention, post


@pytest.fixture
def source(db):
    cache.clear()
    return SourceFactory(kind="webhook", name="Brandwatch push", watch=WatchFactory(name="Acme Air"))


@pytest.fixture
def rate(settings):
    """``rate("2/min")`` sets the per-credential quota for the test."""

    def _rate(value: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"webhook_credential": value},
        }

    return _rate


def body(*mentions: dict) -> bytes:
    return json.dumps({"mentions": list(mentions)}).encode()


def test_a_request_signed_now_is_accepted(source):
    response = post(source, body(mention(1)))

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "dropped": 0}
    assert "Deprecation" not in response.headers


def test_the_signature_covers_the_timestamp_and_the_body():
    digest = signature_digest("s3cret", 1796169600, b'{"mentions":[]}')

    assert sign("s3cret", b'{"mentions":[]}', timestamp=1796169600) == f"t=1796169600,v1={digest}"
    # What the shell example in docs/webhook.md computes: HMAC-SHA256 of "<t>.<body>".
    assert digest == hmac.new(b"s3cret", b'1796169600.{"mentions":[]}', hashlib.sha256).hexdigest()


def test_one_right_v1_among_several_is_enough(source):
    raw = body(mention(1))
    now = int(time.time())
    header = f"t={now},v1={'0' * 64},v1={signature_digest(source.secret, now, raw)}"

    assert post(source, raw, signature=header).status_code == 202


@pytest.mark.parametrize("age", [299, -299])
def test_a_timestamp_inside_the_window_is_accepted(source, age):
    assert post(source, body(mention(1)), timestamp=int(time.time()) - age).status_code == 202


@pytest.mark.parametrize(
    ("age", "direction"), [(301, "behind"), (-301, "ahead of"), (86_400 * 365, "behind")]
)
def test_a_timestamp_outside_the_window_is_401_saying_so(source, age, direction):
    response = post(source, body(mention(1)), timestamp=int(time.time()) - age)

    assert response.status_code == 401
    assert response.json()["code"] == "timestamp_outside_tolerance"
    assert direction in response.json()["detail"] and "300 s" in response.json()["detail"]
    assert Mention.objects.count() == 0


def test_the_window_is_a_setting(source, settings):
    settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 10

    assert post(source, body(mention(1)), timestamp=int(time.time()) - 30).status_code == 401
    assert post(source, body(mention(2)), timestamp=int(time.time()) - 5).status_code == 202


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("sha256=" + "a" * 64, "the old X-CrisisDesk-Signature format"),
        ("v1=" + "a" * 64, "t=<unix seconds> is missing"),
        ("t=1796169600", "v1=<hex HMAC-SHA256> is missing"),
        ("t=yesterday,v1=" + "a" * 64, "whole Unix seconds"),
        ("t=-5,v1=" + "a" * 64, "whole Unix seconds"),
        ("t=1796169600,t=1796169601,v1=" + "a" * 64, "more than once"),
        ("t=1796169600,v1=not-hex", "64 hex digits"),
        ("t=1796169600," + ",".join(["v1=" + "a" * 64] * (MAX_SIGNATURES + 1)), "at most 5"),
        ("t=1796169600,v1=" + "a" * 2000, "longer than 1024"),
        ("garbage", "not a key=value pair"),
    ],
)
def test_a_malformed_header_is_401_naming_the_problem(source, header, problem):
    response = post(source, body(mention(1)), signature=header)

    assert response.status_code == 401
    assert response.json()["code"] == "signature_malformed"
    assert problem in response.json()["detail"]


def test_an_unknown_scheme_beside_v1_is_ignored():
    parsed = parse_signature_header(f"t=1796169600,v0=abc,v2=future,v1={'A' * 64}")

    assert parsed.timestamp == 1796169600 and parsed.signatures == ("a" * 64,)
    with pytest.raises(MalformedSignature):
        parse_signature_header("t=1796169600,v2=future")


def test_a_signature_with_another_timestamp_is_401(source):
    raw = body(mention(1))
    now = int(time.time())
    moved = f"t={now - 10},v1={signature_digest(source.secret, now, raw)}"  # a replayer "refreshing" t

    response = post(source, raw, signature=moved)

    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"


def test_a_signature_of_another_body_or_secret_is_401(source):
    now = int(time.time())
    other_body = f"t={now},v1={signature_digest(source.secret, now, body(mention(2)))}"

    assert post(source, body(mention(1)), signature=other_body).json()["code"] == "signature_invalid"
    assert post(source, body(mention(1)), secret="guessed").json()["code"] == "signature_invalid"
    assert Mention.objects.count() == 0


def test_the_same_signed_request_twice_is_409_and_stores_nothing_twice(source):
    raw = body(mention(1), mention(2))
    signature = sign(source.secret, raw)

    first = post(source, raw, signature=signature)
    again = post(source, raw, signature=signature)

    assert first.status_code == 202
    assert again.status_code == 409
    assert again.json()["code"] == "signature_replayed"
    assert "sign it again" in again.json()["detail"]
    assert Mention.objects.count() == 2


def test_the_batch_signed_again_is_a_retry_and_its_ids_count_as_duplicates(source):
    raw = body(mention(1), mention(2))
    post(source, raw, timestamp=int(time.time()) - 2)

    response = post(source, raw, timestamp=int(time.time()))

    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 2, "dropped": 0}
    assert Mention.objects.count() == 2


def test_replays_never_use_up_the_senders_quota(source, rate):
    rate("2/min")
    raw = body(mention(1))
    captured = sign(source.secret, raw)
    assert post(source, raw, signature=captured).status_code == 202

    replays = [post(source, raw, signature=captured).status_code for _ in range(20)]

    assert set(replays) == {409}
    assert post(source, body(mention(2))).status_code == 202  # the sender's own second request
    assert post(source, body(mention(3))).status_code == 429


def test_no_refused_request_counts_against_the_quota(source, rate):
    rate("2/min")
    stale = int(time.time()) - 3600
    for _ in range(5):
        assert post(source, body(mention(1)), secret="guess").status_code == 401
        assert post(source, body(mention(1)), timestamp=stale).status_code == 401
        assert post(source, body(mention(1)), signature="t=1,v1=zz").status_code == 401
        assert post(source, body(mention(1)), secret=False).status_code == 401

    codes = [post(source, body(mention(n))).status_code for n in range(3)]

    assert codes == [202, 202, 429]


def test_a_throttled_answer_says_when_to_retry(source, rate):
    rate("1/min")
    post(source, body(mention(1)))

    response = post(source, body(mention(2)))

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_request_not_accepted_may_be_sent_again_unchanged(source, rate):
    rate("1/min")
    post(source, body(mention(1)))
    throttled = body(mention(2))
    signature = sign(source.secret, throttled)
    assert post(source, throttled, signature=signature).status_code == 429

    # Not accepted, so not remembered: the identical request is throttled again, not called a replay.
    assert post(source, throttled, signature=signature).status_code == 429
    invalid = body(mention(3, published_at="soon"))
    invalid_signature = sign(source.secret, invalid)
    rate("10/min")
    assert post(source, invalid, signature=invalid_signature).status_code == 400
    assert post(source, invalid, signature=invalid_signature).status_code == 400


def test_the_quota_is_per_source(source, rate):
    rate("1/min")
    other = SourceFactory(kind="webhook", watch=source.watch)

    assert post(source, body(mention(1))).status_code == 202
    assert post(other, body(mention(1))).status_code == 202
    assert post(source, body(mention(2))).status_code == 429


# --- The deprecated X-CrisisDesk-Signature --------------------------------------------------------


def test_the_old_header_still_works_and_says_it_is_deprecated(source, settings):
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = date(2099, 3, 1)

    response = post(source, body(mention(1)), legacy=True)

    assert response.status_code == 202
    assert response["Deprecation"] == "@1796169600"  # 2026-12-02, RFC 9745
    assert response["Sunset"] == "Sun, 01 Mar 2099 00:00:00 GMT"  # RFC 8594


def test_the_old_header_is_not_remembered_so_identical_bodies_keep_working(source, settings):
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = date(2099, 3, 1)
    keep_alive = body()

    codes = [post(source, keep_alive, legacy=True).status_code for _ in range(3)]

    assert codes == [202, 202, 202]


def test_a_wrong_old_header_is_401_and_marked_deprecated(source, settings):
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = date(2099, 3, 1)

    response = post(source, body(mention(1)), legacy=True, secret="guess")

    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert "Deprecation" in response.headers


@pytest.mark.parametrize("sunset", [date(2026, 1, 1), None], ids=["past", "empty"])
def test_after_the_sunset_the_old_header_is_refused(source, settings, sunset):
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = sunset

    response = post(source, body(mention(1)), legacy=True)

    assert response.status_code == 401
    assert response.json()["code"] == "legacy_signature_retired"
    assert "CrisisDesk-Signature: t=" in response.json()["detail"]
    assert Mention.objects.count() == 0


def test_with_both_headers_the_timestamped_one_decides(source, settings):
    settings.WEBHOOK_LEGACY_SIGNATURE_SUNSET = date(2099, 3, 1)
    raw = body(mention(1))

    response = post(source, raw, extra={"HTTP_X_CRISISDESK_SIGNATURE": "sha256=" + "0" * 64})

    assert response.status_code == 202
    assert "Deprecation" not in response.headers


def test_with_the_cache_down_mentions_still_arrive(source, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed}",
        }
    }

    response = post(source, body(mention(1)))

    assert response.status_code == 202 and Mention.objects.count() == 1
