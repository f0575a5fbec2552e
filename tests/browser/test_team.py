"""Journey in Chromium: an admin adds a member and changes a role on the team page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from crisisdesk.roles import user_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_admin_adds_a_member_and_changes_a_role(page, live_url, login, admin_member, viewer, dialogs):
    login(page, admin_member)
    page.goto(f"{live_url}/incidents/")
    page.get_by_role("link", name="Team").click()
    page.wait_for_url("**/team/")

    page.fill("#id_username", "dewi")
    page.fill("#id_email", "dewi@example.com")
    page.select_option("#id_role", "responder")
    page.get_by_role("button", name="Add member").click()
    page.wait_for_url("**/team/")
    assert "Added dewi as responder." in page.locator(".messages").inner_text()
    password = page.locator("#new-password code.secret").inner_text()
    dewi = User.objects.get(username="dewi")
    assert dewi.check_password(password) and user_role(dewi) == "responder"

    row = page.locator(f"tr[data-member='{viewer.username}']")
    row.locator("select[name=role]").select_option("manager")
    row.get_by_role("button", name="Change role").click()
    page.wait_for_url("**/team/")
    assert f"{viewer.username} is now manager." in page.locator(".messages").inner_text()
    assert user_role(User.objects.get(pk=viewer.pk)) == "manager"
    # The generated password was shown once and is gone now.
    assert page.locator("#new-password").count() == 0
    assert dialogs == []


def test_a_manager_is_refused_the_team_page(page, live_url, login, manager):
    login(page, manager)
    assert page.get_by_role("link", name="Team").count() == 0
    response = page.goto(f"{live_url}/team/")
    assert response.status == 403
