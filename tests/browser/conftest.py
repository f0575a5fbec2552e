"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against pytest-django's live server.

Use them in any ``tests/browser/test_*.py``::

    # serialized_rollback: the flush after a transactional test would drop the role groups the
    # migrations created; this restores them for the next test.
    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

    def test_something(page, live_url, login, responder):
        login(page, responder)
        page.goto(live_url + "/incidents/")

``page`` is a fresh browser context per test (no shared cookies). Dialogs (``alert``/``confirm``)
are recorded in the ``dialogs`` list and dismissed — assert ``dialogs == []`` to prove nothing ran;
set ``accept_dialogs`` to True in a test to accept ``data-confirm`` prompts instead.
"""

from __future__ import annotations

import os

import pytest

from tests.availability import CHROMIUM, require_chromium
from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM calls in the same test are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every dialog the page opened (alert, confirm, prompt)."""
    return []


@pytest.fixture
def accept_dialogs() -> bool:
    return False


@pytest.fixture
def page(browser, dialogs, accept_dialogs):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.accept() if accept_dialogs else dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()


@pytest.fixture
def live_url(live_server) -> str:
    """The live server's base URL, without a trailing slash."""
    return live_server.url.rstrip("/")


@pytest.fixture
def login(live_url):
    """``login(page, user, password=PASSWORD)`` signs in through the real login form."""

    def _login(page, user, password: str = PASSWORD) -> None:
        page.goto(f"{live_url}/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)

    return _login
