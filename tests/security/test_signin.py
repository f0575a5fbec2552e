"""Sign-in throttling (django-axes, crisisdesk/signin.py): after AXES_FAILURE_LIMIT wrong passwords
for one username from one address, the right password is refused too — on the form and on the
API's HTTP Basic — until the cool-off passes or an admin unlocks the member."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


def sign_in(client: Client, username: str, password: str, *, address: str = "198.51.100.20"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def basic(username: str, password: str, *, address: str = "198.51.100.20"):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return APIClient().get("/api/watches/", HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR=address)


def fail_form(username: str, times: int, *, address: str = "198.51.100.20") -> None:
    for _ in range(times):
        client = Client()
        assert sign_in(client, username, WRONG, address=address).status_code in (200, 429)
        assert not signed_in(client)


def test_twenty_wrong_passwords_then_the_right_one_is_refused(responder, settings):
    fail_form(responder.username, 20)
    client = Client()
    response = sign_in(client, responder.username, PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    assert "Sign-in locked" in response.content.decode()
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_the_lock_starts_at_the_failure_limit(responder, settings):
    fail_form(responder.username, settings.AXES_FAILURE_LIMIT - 1)
    client = Client()
    assert sign_in(client, responder.username, PASSWORD).status_code == 302 and signed_in(client)
    # A success clears the count: the member is not one typo away from a lockout afterwards.
    fail_form(responder.username, settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(Client(), responder.username, PASSWORD).status_code == 302

    fail_form(responder.username, settings.AXES_FAILURE_LIMIT)
    assert sign_in(Client(), responder.username, PASSWORD).status_code == 429


def test_api_basic_failures_lock_the_api_and_the_form(viewer, settings):
    assert basic(viewer.username, PASSWORD).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert basic(viewer.username, WRONG).status_code in (401, 429)

    response = basic(viewer.username, PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out" and "locked" in response.json()["detail"]
    assert "Retry-After" in response
    assert sign_in(Client(), viewer.username, PASSWORD).status_code == 429  # same member, same address


def test_the_lock_is_per_member_and_address(responder, viewer, settings):
    fail_form(responder.username, settings.AXES_FAILURE_LIMIT)
    assert sign_in(Client(), responder.username, PASSWORD).status_code == 429
    assert sign_in(Client(), responder.username, PASSWORD, address="203.0.113.77").status_code == 302
    assert sign_in(Client(), viewer.username, PASSWORD).status_code == 302


def test_an_admin_reset_lets_the_member_in_again(responder, settings):
    fail_form(responder.username, settings.AXES_FAILURE_LIMIT)
    assert sign_in(Client(), responder.username, PASSWORD).status_code == 429
    assert AccessAttempt.objects.filter(username=responder.username).exists()  # what Django admin lists

    call_command("axes_reset_username", responder.username, verbosity=0)

    client = Client()
    assert sign_in(client, responder.username, PASSWORD).status_code == 302 and signed_in(client)


def test_the_lock_lifts_after_the_cool_off(responder, settings):
    fail_form(responder.username, settings.AXES_FAILURE_LIMIT)
    assert sign_in(Client(), responder.username, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1), tick=False):
        assert sign_in(Client(), responder.username, PASSWORD).status_code == 302


def test_the_test_clients_login_without_a_request_still_works(responder):
    # Client.login() checks credentials without a request: nothing to throttle, nothing breaks.
    assert Client().login(username=responder.username, password=PASSWORD)
    assert not Client().login(username=responder.username, password=WRONG)
