"""The drafts panel groups drafts by language and folds the languages nobody has worked on yet;
the incident header shows when the crisis began, the same start the review measures from."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.lifecycle.timeline import timeline_add
from incidents.models import Draft, DraftStatus
from incidents.response.selectors import draft_groups, drafts_for
from incidents.response.services import draft_edit, draft_submit, playbook_activate
from playbooks.models import Phase
from tests.factories import IncidentFactory, MessageTemplateFactory, WatchFactory
from tests.incidents.response.helpers import ready_playbook

pytestmark = pytest.mark.django_db

WATCH_LANGUAGES = ["pl", "en", "tr", "id", "ms"]


@pytest.fixture
def incident(responder):
    """A five-language watch whose playbook has a holding statement and an update in every language."""
    playbook = ready_playbook()
    for language in WATCH_LANGUAGES:
        for kind in ("holding", "update"):
            if (kind, language) not in {("holding", "en"), ("holding", "tr")}:  # ready_playbook has those
                MessageTemplateFactory(
                    playbook=playbook,
                    kind=kind,
                    language=language,
                    approval_state="approved",
                    title=f"{kind} {language}",
                    body=f"{kind} in {language} about {{brand}}.",
                )
    watch = WatchFactory(name="Acme Air", languages=WATCH_LANGUAGES)
    incident = IncidentFactory(watch=watch, scenario=playbook.scenario, public_summary="check-in problems")
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    return incident


def groups_of(incident):
    return draft_groups(drafts_for(incident), incident.watch.languages)


def test_drafts_are_grouped_in_the_watchs_language_order_with_only_the_main_language_open(incident):
    groups = groups_of(incident)

    assert [group.language for group in groups] == WATCH_LANGUAGES
    assert [len(group.drafts) for group in groups] == [2] * 5
    assert all(draft.language == group.language for group in groups for draft in group.drafts)
    assert [group.open for group in groups] == [True, False, False, False, False]


def test_a_language_someone_works_on_unfolds_and_counts_its_states(incident, responder):
    turkish = Draft.objects.get(incident=incident, language="tr", kind="holding")
    draft_submit(draft=turkish, by=responder)
    malay = Draft.objects.get(incident=incident, language="ms", kind="update")
    draft_edit(draft=malay, by=responder, body="Kemas kini: kami sedang menyiasat.")

    groups = {group.language: group for group in groups_of(incident)}

    assert groups["tr"].open and groups["tr"].in_review == 1
    assert groups["ms"].open and groups["ms"].in_review == 0
    assert not groups["id"].open and not groups["en"].open


def test_a_language_outside_the_watchs_list_comes_last():
    watch = WatchFactory(name="Two languages", languages=["tr", "en"])
    incident = IncidentFactory(watch=watch)
    for language in ("pl", "en", "tr"):
        Draft.objects.create(incident=incident, kind="holding", language=language, body="x", title=language)

    assert [group.language for group in groups_of(incident)] == ["tr", "en", "pl"]


def test_few_drafts_are_all_shown_open():
    incident = IncidentFactory(watch=WatchFactory(name="Small", languages=["en", "tr", "pl"]))
    for language in ("en", "tr", "pl"):
        Draft.objects.create(incident=incident, kind="holding", language=language, body="x", title=language)

    assert all(group.open for group in groups_of(incident))


def test_the_panel_folds_untouched_languages_and_names_each_group(incident, responder, client_for):
    published = Draft.objects.get(incident=incident, language="id", kind="holding")
    Draft.objects.filter(pk=published.pk).update(status=DraftStatus.PUBLISHED, published_at=timezone.now())

    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()

    tags = re.findall(r'<details class="draft-language" id="drafts-(\w+)"([^>]*)>', html)
    opened = {code: "open" in rest for code, rest in tags}
    assert opened == {"pl": True, "en": False, "tr": False, "id": True, "ms": False}
    assert "Polski (Polish)" in html and "1 published" in html
    # Folded drafts are still on the page (a browser unfolds them), with their own actions.
    assert html.count('class="draft draft-') == Draft.objects.filter(incident=incident).count()


def test_the_header_shows_when_the_crisis_began_before_the_first_signal(responder, client_for):
    now = timezone.now().replace(second=0, microsecond=0)
    incident = IncidentFactory(first_signal_at=now - timedelta(minutes=5), detected_at=now)
    timeline_add(
        incident=incident,
        kind="buildup_started",
        phase=Phase.PRE,
        at=now - timedelta(minutes=47),
        text="First mention of the build-up",
    )

    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()

    began = timezone.localtime(now - timedelta(minutes=47)).strftime("%Y-%m-%d %H:%M")
    assert re.search(rf"Crisis began</dt><dd>{began}</dd>", html)
    assert "First signal</dt>" in html


def test_the_header_does_not_repeat_the_first_signal_as_the_start(responder, client_for):
    now = timezone.now()
    incident = IncidentFactory(first_signal_at=now - timedelta(minutes=5), detected_at=now)

    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()

    assert "Crisis began" not in html and "First signal</dt>" in html


def test_the_header_shows_one_time_when_the_crisis_began_in_the_minute_of_the_first_signal(
    responder, client_for
):
    now = timezone.now().replace(second=30, microsecond=0)
    incident = IncidentFactory(first_signal_at=now, detected_at=now)
    timeline_add(
        incident=incident,
        kind="buildup_started",
        phase=Phase.PRE,
        at=now - timedelta(seconds=20),
        text="First mention of the build-up",
    )

    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()

    assert "Crisis began" not in html and "First signal</dt>" in html
