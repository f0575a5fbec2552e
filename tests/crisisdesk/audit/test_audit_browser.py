"""The audit browser: admins only, filters by type/actor/action/date, paginated, before/after as a diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from crisisdesk.audit.selectors import audit_diff
from crisisdesk.audit.services import audit_record
from crisisdesk.audit.views import PAGE_SIZE
from incidents.lifecycle.services import incident_acknowledge
from tests.factories import IncidentFactory, WatchFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit")
DAY = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def rows(response) -> list[int]:
    return [record.pk for record in response.context["page"].object_list]


@pytest.fixture
def trail(responder, manager):
    """Three audit rows from real services and direct writes, on different days."""
    with time_machine.travel(DAY, tick=False):
        incident = IncidentFactory()
        incident_acknowledge(incident=incident, by=responder)
    with time_machine.travel(DAY + timedelta(days=2), tick=False):
        watch = WatchFactory(name="Acme Air")
        audit_record(
            actor=manager,
            action="watch.updated",
            target=watch,
            before={"include_terms": ["acme"]},
            after={"include_terms": ["acme", "acme air"]},
        )
    with time_machine.travel(DAY + timedelta(days=4), tick=False):
        audit_record(
            actor=None,
            action="source.health",
            target=watch,
            before={"health": "ok"},
            after={"health": "failing", "last_error": "<script>alert(1)</script>"},
        )
    return incident, watch


@pytest.mark.parametrize("persona", ["manager", "responder", "viewer"])
def test_only_admins_may_browse_it(persona, request, client_for):
    assert client_for(request.getfixturevalue(persona)).get(URL).status_code == 403


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_admin_sees_every_row_newest_first_with_a_readable_diff(trail, admin_member, client_for):
    response = client_for(admin_member).get(URL)
    assert response.status_code == 200
    actions = [record.action for record in response.context["page"].object_list]
    assert actions == ["source.health", "watch.updated", "incident.status.acknowledged"]
    html = response.content.decode()
    assert 'class="mention-text diff-before">ok</td>' in html
    assert 'class="mention-text diff-after">failing</td>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "CrisisDesk" in html  # a system change has no human actor
    assert '<a href="/audit/"' in html  # the nav link, for admins


def test_it_filters_by_object_type(trail, admin_member, client_for):
    response = client_for(admin_member).get(URL, {"object_type": "monitoring.watch"})
    assert [r.action for r in response.context["page"].object_list] == ["source.health", "watch.updated"]


def test_it_filters_by_actor(trail, admin_member, manager, client_for):
    response = client_for(admin_member).get(URL, {"actor": manager.username})
    assert [r.action for r in response.context["page"].object_list] == ["watch.updated"]


def test_it_filters_by_part_of_the_action(trail, admin_member, client_for):
    response = client_for(admin_member).get(URL, {"action": "STATUS"})
    assert [r.action for r in response.context["page"].object_list] == ["incident.status.acknowledged"]


def test_it_filters_by_date_range_in_whole_days(trail, admin_member, client_for):
    client = client_for(admin_member)
    response = client.get(URL, {"date_from": "2026-02-03", "date_to": "2026-02-03"})
    assert [r.action for r in response.context["page"].object_list] == ["watch.updated"]
    response = client.get(URL, {"date_from": "2026-02-02"})
    assert [r.action for r in response.context["page"].object_list] == ["source.health", "watch.updated"]


def test_bad_filters_are_a_400_naming_the_field(trail, admin_member, client_for):
    client = client_for(admin_member)
    response = client.get(URL, {"date_from": "yesterday"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"date_from": ["Enter a valid date."]}
    assert rows(response) == []
    response = client.get(URL, {"date_from": "2026-02-05", "date_to": "2026-02-01"})
    assert response.status_code == 400 and "date_to" in response.context["form"].errors
    response = client.get(URL, {"object_type": "no.such"})
    assert response.status_code == 400 and "object_type" in response.context["form"].errors


def test_it_pages_through_long_trails_keeping_the_filters(admin_member, manager, client_for):
    watch = WatchFactory()
    for n in range(PAGE_SIZE + 5):
        audit_record(actor=manager, action="watch.updated", target=watch, after={"n": n})
    client = client_for(admin_member)
    first = client.get(URL, {"action": "watch"})
    assert len(rows(first)) == PAGE_SIZE
    assert "?action=watch&amp;page=2" in first.content.decode()
    second = client.get(URL, {"action": "watch", "page": 2})
    assert len(rows(second)) == 5 and not set(rows(first)) & set(rows(second))


def test_the_page_costs_the_same_queries_however_many_rows(
    admin_member, manager, client_for, django_assert_max_num_queries
):
    watch = WatchFactory()
    for n in range(PAGE_SIZE):
        audit_record(
            actor=manager if n % 2 else admin_member, action="watch.updated", target=watch, after={"n": n}
        )
    client = client_for(admin_member)
    with django_assert_max_num_queries(9):
        assert client.get(URL).status_code == 200


def test_the_diff_puts_changes_first_and_marks_added_and_removed_fields():
    diff = audit_diff(
        {"status": "detected", "owner": 3, "gone": "x"}, {"status": "acknowledged", "owner": 3, "note": ["a"]}
    )
    assert [(row.field, row.state) for row in diff] == [
        ("status", "changed"),
        ("note", "added"),
        ("gone", "removed"),
        ("owner", "same"),
    ]
    assert diff[1].after == '["a"]' and diff[0].before == "detected"
    assert audit_diff({}, {"x": None})[0].after == "∅"
