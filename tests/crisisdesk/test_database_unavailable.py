"""The database down is a 503 with Retry-After (JSON on the API, a short page for people), never a 500."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def database_down():
    return mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("could not connect to server: Connection refused"),
    )


def test_a_page_answers_503_with_retry_after(client_for, responder):
    client = client_for(responder)
    with database_down():
        response = client.get(reverse("incidents:list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"Back in a moment" in response.content
    assert b"Traceback" not in response.content
    assert "Content-Security-Policy" in response


def test_the_api_answers_503_in_json(client_for, viewer):
    client = client_for(viewer)
    with database_down():
        response = client.get(reverse("crisisdesk:mention-list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["code"] == "database_unavailable"


def test_the_webhook_answers_503_so_a_sender_retries():
    source = SourceFactory(kind="webhook")
    with database_down():
        response = Client().post(
            reverse("crisisdesk:source-webhook", args=[source.pk]), b"{}", content_type="application/json"
        )

    assert response.status_code == 503
