"""Journey in Chromium: working an incident from its page, with two people and four-eyes approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Draft, Evidence, Reply, Task
from incidents.response.services import playbook_activate
from tests.factories import (
    IncidentFactory,
    MentionFactory,
    MessageTemplateFactory,
    SourceFactory,
    WatchFactory,
)
from tests.incidents.response.helpers import ready_playbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_crisis_is_worked_from_activation_to_published_statement(
    page, live_url, login, responder, manager, browser, dialogs
):
    ready_playbook()  # the active playbook for service_failure, suggested by the hint
    watch = WatchFactory(name="Acme Air", languages=["en"])
    incident = IncidentFactory(
        watch=watch,
        title="Acme Air: volume spike",
        scenario=None,
        scenario_hint="service_failure",
        detected_at=timezone.now() - timedelta(minutes=90),
    )
    source = SourceFactory(watch=watch)
    angry = MentionFactory(
        source=source,
        incident=incident,
        sentiment_label="negative",
        risk=0.9,
        author="@wściekły",
        text="Acme Air <script>alert(1)</script> znowu opóźnienie!",
        url="https://social.example/@w/1",
        published_at=timezone.now() - timedelta(minutes=80),
    )

    # Responder: activate the suggested playbook in one click.
    login(page, responder)
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    page.click("#activate-suggested")
    page.wait_for_url(f"**/incidents/{incident.pk}/#tasks")
    assert "activated" in page.locator(".msg-success").inner_text()

    # …complete a task…
    task = Task.objects.get(incident=incident, title="Confirm the facts")
    page.locator(f"#task-{task.pk} button", has_text="Done").click()
    page.wait_for_selector(f"#task-{task.pk}.is-done")

    # …name the issue as the public would (the internal title never reaches public copy)…
    draft = Draft.objects.get(incident=incident, kind="holding")
    assert "volume spike" not in draft.body and "{issue}" in draft.body
    page.fill("#id_public_summary", "delays to flights from Warsaw")
    page.locator("#public-summary").get_by_role("button", name="Save").click()
    page.wait_for_selector(".msg-success")
    draft.refresh_from_db()
    assert "delays to flights from Warsaw" in draft.body

    # …edit the holding statement (fill in {next_update}) and submit it for review.
    card = page.locator(f"#draft-{draft.pk}")
    card.locator("summary", has_text="Edit").click()
    body = card.locator("textarea[name=body]")
    body.fill(body.input_value().replace("{next_update}", "14:00 CET"))
    card.get_by_role("button", name="Save draft").click()
    page.wait_for_selector(".msg-success")
    page.locator(f"#draft-{draft.pk}").get_by_role("button", name="Submit for review").click()
    page.wait_for_selector(f"#draft-{draft.pk}.draft-in_review")

    # Manager, in a separate session: approve.
    manager_context = browser.new_context()
    manager_page = manager_context.new_page()
    login(manager_page, manager)
    manager_page.goto(f"{live_url}/incidents/{incident.pk}/")
    manager_page.locator(f"#draft-{draft.pk}").get_by_role("button", name="Approve").click()
    manager_page.wait_for_selector(f"#draft-{draft.pk}.draft-approved")
    manager_context.close()

    # Responder: publish with a link.
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    publish = page.locator(f"#draft-{draft.pk} form.publish-form")
    publish.locator("select[name=channel]").select_option("x")
    publish.locator("input[name=url]").fill("https://x.example/acmeair/status/42")
    publish.get_by_role("button", name="Mark published").click()
    page.wait_for_selector(f"#draft-{draft.pk}.draft-published")
    assert (
        page.locator(f"#draft-{draft.pk} a.published-link").get_attribute("href")
        == "https://x.example/acmeair/status/42"
    )

    # Response queue: the overdue mention (shown as text, never run) gets a reply; then evidence.
    row = page.locator(f"#mention-{angry.pk}")
    assert "is-overdue" in row.get_attribute("class")
    assert "<script>alert(1)</script>" in row.locator(".mention-text").first.inner_text()
    row.locator("summary", has_text="Record a reply").click()
    row.locator("input[name=url]").fill("https://social.example/@acmeair/99")
    row.get_by_role("button", name="Save reply").click()
    page.wait_for_selector(f"#mention-{angry.pk}.is-replied")
    page.locator(f"#mention-{angry.pk}").get_by_role("button", name="Capture as evidence").click()
    page.wait_for_selector("#evidence code.sha256")

    evidence = Evidence.objects.get(incident=incident)
    assert page.locator("#evidence code.sha256").inner_text() == evidence.sha256
    draft.refresh_from_db()
    assert (draft.status, draft.author, draft.approver, draft.published_by) == (
        "published",
        responder,
        manager,
        responder,
    )
    assert draft.published_channel == "x" and "14:00 CET" in draft.body
    assert Reply.objects.get(mention=angry).replied_by == responder
    assert Task.objects.get(pk=task.pk).completed_by == responder
    assert dialogs == []


def test_a_folded_language_opens_and_its_draft_can_be_submitted(page, live_url, login, responder):
    """A five-language watch: the main language's drafts are open, the others fold until someone works on them."""
    playbook = ready_playbook()
    for language in ("pl", "id", "ms"):
        for kind in ("holding", "update"):
            MessageTemplateFactory(
                playbook=playbook,
                kind=kind,
                language=language,
                approval_state="approved",
                title=f"{kind} {language}",
                body=f"{kind} ({language}) about {{brand}}.",
            )
    watch = WatchFactory(name="Acme Air", languages=["pl", "en", "tr", "id", "ms"])
    incident = IncidentFactory(watch=watch, scenario=playbook.scenario)
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    malay = Draft.objects.get(incident=incident, kind="holding", language="ms")

    login(page, responder)
    page.goto(f"{live_url}/incidents/{incident.pk}/")
    submit = page.locator(f"#draft-{malay.pk}").get_by_role("button", name="Submit for review")
    assert page.locator("#drafts-pl").get_attribute("open") is not None
    assert not submit.is_visible()

    page.locator("#drafts-ms > summary").click()
    submit.click()
    page.wait_for_selector(f"#draft-{malay.pk}.draft-in_review")
    # Worked on now: the Malay group stays open after the reload, and says what is waiting.
    assert page.locator("#drafts-ms").get_attribute("open") is not None
    assert "1 in review" in page.locator("#drafts-ms > summary").inner_text()
