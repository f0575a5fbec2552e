"""Journey in Chromium: a manager edits an approved template with the live preview, cannot approve
their own version, and a second manager approves it (the old version is superseded)."""

from __future__ import annotations

import re

import pytest

from playbooks.models import ApprovalState, MessageTemplate, PlaybookStatus
from tests.browser.conftest import CHROMIUM_ARGS, TIMEOUT_MS  # noqa: F401 - same browser settings
from tests.factories import MessageTemplateFactory, PlaybookFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_edits_a_template_and_a_second_manager_approves_it(
    browser, page, live_url, login, manager, manager2, dialogs
):
    playbook = PlaybookFactory(status=PlaybookStatus.ACTIVE, name="Outage response")
    approved = MessageTemplateFactory(
        playbook=playbook, title="Holding statement", approval_state=ApprovalState.APPROVED, author=None
    )

    login(page, manager)
    page.goto(f"{live_url}/playbooks/{playbook.pk}/")
    page.get_by_role("link", name="Holding statement", exact=True).click()
    page.get_by_role("link", name="Edit (creates version 2)").click()

    body = page.locator("#id_body")
    body.wait_for()
    # htmx wires the live preview when the page has loaded; typing earlier would go unheard. Polled
    # from Python: wait_for_function's in-page polling compiles its predicate, which the strict CSP
    # (no 'unsafe-eval') refuses whenever the first check comes too early.
    page.wait_for_load_state("load")
    for _ in range(200):
        if page.evaluate("() => !!window.htmx"):
            break
        page.wait_for_timeout(25)
    body.fill("<script>alert(1)</script> We are sorry about {issue}. ")
    preview = page.locator("#template-preview [data-testid=preview]")
    preview.filter(has_text="We are sorry about delays to flights departing Warsaw").wait_for()
    preview.filter(has_text="<script>alert(1)</script>").wait_for()  # shown as text, never run
    page.click("button[data-insert-placeholder=brand]")  # playbooks.js inserts it, htmx refreshes
    preview.filter(has_text="departing Warsaw. Acme Air").wait_for()
    page.select_option("#id_language", "pl")
    preview.filter(has_text="opóźnienia lotów z Warszawy").wait_for()
    page.click("button[name=save]")

    page.wait_for_url(re.compile(r"/playbooks/templates/\d+/$"))  # saved: the new version's page
    new = MessageTemplate.objects.get(family=approved.family, version=2)
    assert page.url.endswith(f"/playbooks/templates/{new.pk}/")
    assert "awaiting approval" in page.inner_text("body")
    assert page.locator("[data-testid=own-template]").is_visible()
    assert page.locator("form[action$='/approve/'] button").count() == 0
    approved.refresh_from_db()
    assert approved.approval_state == ApprovalState.APPROVED  # still the one in use

    second = browser.new_context()
    second.set_default_timeout(TIMEOUT_MS)
    other = second.new_page()
    try:
        login(other, manager2)
        other.goto(f"{live_url}/playbooks/templates/approvals/")
        other.click(f"a[href='/playbooks/templates/{new.pk}/']")
        other.click("form[action$='/approve/'] button")
        other.locator(".msg").filter(has_text="Approved").wait_for()
        history = other.inner_text("#history")
        assert "Superseded" in history and "maria-manager" in history and "mehmet-manager" in history
    finally:
        second.close()

    new.refresh_from_db()
    approved.refresh_from_db()
    assert (new.approval_state, new.approved_by, approved.approval_state) == (
        "approved",
        manager2,
        "superseded",
    )
    assert dialogs == []
