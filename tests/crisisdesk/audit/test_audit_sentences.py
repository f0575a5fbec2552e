"""The audit browser reads as sentences with names, and its rows link to narrower filters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisisdesk.audit.selectors import audit_rows
from crisisdesk.audit.sentences import action_phrase, object_noun
from crisisdesk.audit.services import audit_record
from crisisdesk.models import AuditRecord
from incidents.lifecycle.services import incident_acknowledge
from tests.factories import IncidentFactory, WatchFactory

pytestmark = pytest.mark.django_db


def test_action_codes_read_as_phrases():
    assert action_phrase("incident.status.acknowledged", object_words="the incident") == (
        "moved the incident to acknowledged"
    )
    assert action_phrase("draft.approved", object_words="the draft") == "approved the draft"
    assert action_phrase("draft.submitted", object_words="the draft") == "submitted the draft for approval"
    assert action_phrase("watch.updated", object_words="the watch") == "edited the watch"
    # An unknown code still reads, from its last word.
    assert action_phrase("widget.frobnicated", object_words="the widget") == "frobnicated the widget"
    assert object_noun("incidents.incident") == "incident"
    assert object_noun("no.such_model") == "no.such_model"


def test_the_page_says_who_did_what_with_names_not_ids(admin_member, responder, manager, client_for):
    incident = IncidentFactory(title="Baggage chaos")
    incident_acknowledge(incident=incident, by=responder)
    audit_record(
        actor=manager,
        action="incident.owner",
        target=incident,
        before={"owner": None},
        after={"owner": responder.pk},
    )
    html = client_for(admin_member).get(reverse("audit")).content.decode()
    assert f"{responder.username} moved the incident to acknowledged" in html
    assert f"{manager.username} changed the owner of the incident" in html
    assert f"{responder.username} (#{responder.pk})" in html  # the owner's id is shown with the name
    assert f'href="?actor={manager.username}"' in html
    assert f'href="?object_type=incidents.incident&amp;object_id={incident.pk}"' in html


def test_the_object_link_narrows_to_that_objects_history(admin_member, responder, client_for):
    first, second = IncidentFactory(), IncidentFactory()
    incident_acknowledge(incident=first, by=responder)
    incident_acknowledge(incident=second, by=responder)
    response = client_for(admin_member).get(
        reverse("audit"), {"object_type": "incidents.incident", "object_id": str(first.pk)}
    )
    assert {row.record.object_id for row in response.context["rows"]} == {str(first.pk)}


def test_names_for_a_whole_page_cost_one_query(responder, manager):
    watch = WatchFactory()
    for n in range(30):
        audit_record(
            actor=manager if n % 2 else responder,
            action="watch.updated",
            target=watch,
            before={"owner": responder.pk},
            after={"owner": manager.pk, "author": responder.pk},
        )
    records = list(AuditRecord.objects.select_related("actor"))
    with CaptureQueriesContext(connection) as queries:
        rows = audit_rows(records)
    assert len(queries) == 1
    assert rows[0].diff[0].after.startswith(manager.username)


def test_hostile_text_in_a_snapshot_is_escaped(admin_member, client_for):
    audit_record(
        actor=None,
        action="source.health",
        target=WatchFactory(),
        before={"health": "ok"},
        after={"last_error": "<img src=x onerror=alert(1)>"},
    )
    html = client_for(admin_member).get(reverse("audit")).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "CrisisDesk recorded a health change of the watch" in html
