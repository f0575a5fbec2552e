"""The 403 and 404 pages are the site's pages (navigation, a way back); a 403 logs one line."""

from __future__ import annotations

import logging
import sys

import pytest
from django.urls import reverse

from crisisdesk.log_filters import OneLineForClientErrors

pytestmark = pytest.mark.django_db


def test_a_403_is_a_styled_page_with_navigation(viewer, client_for, settings):
    settings.DEBUG = False
    response = client_for(viewer).get(reverse("team"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html and 'aria-label="Main"' in html
    assert "Your role can&#x27;t open this" in html or "Your role can't open this" in html
    assert viewer.username in html
    assert reverse("incidents:list") in html


def test_a_404_is_a_styled_page(viewer, client_for, settings):
    settings.DEBUG = False
    response = client_for(viewer).get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html and 'class="topbar"' in html


def _record(status: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden", (), sys.exc_info()
        )
    record.status_code = status
    return record


def test_a_client_error_is_logged_without_its_traceback():
    record = _record(403)
    assert OneLineForClientErrors().filter(record) is True
    assert record.exc_info is None
    assert "Traceback" not in logging.Formatter().format(record)


def test_a_server_error_keeps_its_traceback():
    record = _record(500)
    OneLineForClientErrors().filter(record)
    assert "Traceback" in logging.Formatter().format(record)


def test_the_console_handler_uses_the_filter(settings):
    assert "one_line_client_errors" in settings.LOGGING["handlers"]["console"]["filters"]
