"""The review pages: responders write, viewers read, closing without a review is a clear message."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from incidents.lifecycle.services import incident_acknowledge, incident_resolve
from incidents.models import ActionItem, Incident, Review, Status
from incidents.review.services import action_item_add, review_write
from tests.factories import IncidentFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(responder) -> Incident:
    incident = IncidentFactory()
    incident_acknowledge(incident=incident, by=responder)
    incident_resolve(incident=incident, by=responder)
    return incident


def url(name: str, incident: Incident, *args) -> str:
    return reverse(f"incidents:{name}", args=[incident.pk, *args])


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_responder_writes_the_review_through_the_form(resolved, responder, client_for):
    client = client_for(responder)
    assert client.get(url("review_edit", resolved)).status_code == 200
    response = client.post(
        url("review_edit", resolved),
        {
            "summary": "Bagaj sistemi çöktü; two hours of angry posts.",
            "went_well": "Fast holding statement",
            "went_badly": "",
            "lessons": "Drill the Polish replies",
        },
    )
    assert response.status_code == 302 and response["Location"] == url("review", resolved)
    review = Review.objects.get(incident=resolved)
    assert review.summary.startswith("Bagaj sistemi çöktü") and review.kpis

    page = client.get(url("review", resolved))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Bagaj sistemi çöktü" in html and "Time to acknowledge" in html and "Recompute KPIs" in html


def test_a_missing_summary_is_a_400_naming_the_field(resolved, responder, client_for):
    response = client_for(responder).post(url("review_edit", resolved), {"summary": ""})
    assert response.status_code == 400
    field = response.content.decode().split('for="id_summary"', 1)[1].split('class="field"', 1)[0]
    assert "This field is required." in field
    assert not Review.objects.exists()


def test_a_viewer_reads_but_cannot_write(resolved, responder, viewer, client_for):
    review = review_write(incident=resolved, by=responder, summary="What happened")
    client = client_for(viewer)
    page = client.get(url("review", resolved))
    assert page.status_code == 200
    html = page.content.decode()
    assert "What happened" in html and "Recompute KPIs" not in html and "Add action item" not in html
    assert client.get(url("review_edit", resolved)).status_code == 403
    for name, args, data in [
        ("review_edit", (), {"summary": "hijack"}),
        ("review_recompute", (), {}),
        ("review_action_item_add", (), {"text": "x"}),
    ]:
        assert client.post(url(name, resolved, *args), data).status_code == 403, name
    assert Review.objects.get(pk=review.pk).summary == "What happened"


def test_writing_before_resolution_is_refused_with_a_message(responder, client_for):
    incident = IncidentFactory()
    client = client_for(responder)
    assert "Resolve the incident first" in client.get(url("review_edit", incident)).content.decode()
    response = client.post(url("review_edit", incident), {"summary": "Too early"})
    assert response.status_code == 400
    assert "Resolve the incident before writing its post-crisis review." in texts(response)


def test_action_items_are_added_and_done_from_the_page(resolved, responder, responder2, manager, client_for):
    review_write(incident=resolved, by=responder, summary="s")
    playbook = PlaybookFactory()
    client = client_for(responder)
    response = client.post(
        url("review_action_item_add", resolved),
        {"text": "Update the FAQ in Bahasa", "owner": responder2.pk, "playbook": playbook.pk},
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.owner, item.playbook) == (responder2, playbook)

    # The playbook link opens its edit page for those who may edit playbooks.
    edit = reverse("playbooks:edit", args=[playbook.pk])
    assert edit in client_for(manager).get(url("review", resolved)).content.decode()
    assert edit not in client.get(url("review", resolved)).content.decode()

    client.post(url("review_action_item_done", resolved, item.pk), {"done": "1"})
    assert ActionItem.objects.get().done_at is not None
    response = client.post(url("review_action_item_done", resolved, item.pk), {"done": "1"})
    assert "That action item is already done." in texts(response)


def test_a_bad_playbook_choice_names_the_field(resolved, responder, client_for):
    review_write(incident=resolved, by=responder, summary="s")
    response = client_for(responder).post(
        url("review_action_item_add", resolved), {"text": "x", "playbook": "999"}
    )
    assert any(text.startswith("Playbook:") for text in texts(response))
    assert not ActionItem.objects.exists()


def test_an_action_item_of_another_incident_is_404(resolved, responder, client_for):
    review_write(incident=resolved, by=responder, summary="s")
    other = IncidentFactory()
    incident_acknowledge(incident=other, by=responder)
    incident_resolve(incident=other, by=responder)
    item = action_item_add(
        review=review_write(incident=other, by=responder, summary="t"), by=responder, text="x"
    )
    response = client_for(responder).post(url("review_action_item_done", resolved, item.pk), {"done": "1"})
    assert response.status_code == 404


def test_closing_without_a_review_is_refused_with_a_clear_message(resolved, manager, responder, client_for):
    client = client_for(manager)
    response = client.post(reverse("incidents:transition", args=[resolved.pk]), {"to_status": "closed"})
    assert response.status_code == 302
    assert any("closing requires" in text and "review" in text for text in texts(response))
    assert Incident.objects.get(pk=resolved.pk).status == Status.RESOLVED

    review_write(incident=resolved, by=responder, summary="Reviewed")
    client.post(reverse("incidents:transition", args=[resolved.pk]), {"to_status": "closed"})
    assert Incident.objects.get(pk=resolved.pk).status == Status.CLOSED


def test_the_incident_page_shows_the_review_panel(resolved, responder, client_for):
    client = client_for(responder)
    detail = reverse("incidents:detail", args=[resolved.pk])
    html = client.get(detail).content.decode()
    assert (
        "No review yet. Closing this incident requires one." in html and url("review_edit", resolved) in html
    )
    review_write(incident=resolved, by=responder, summary="Short story of the crisis")
    html = client.get(detail).content.decode()
    assert "Short story of the crisis" in html and url("review_markdown", resolved) in html


def test_an_open_incident_has_no_review_panel(responder, client_for):
    incident = IncidentFactory()
    assert (
        'id="review"'
        not in client_for(responder).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    )


def test_the_review_page_query_count_does_not_grow_with_action_items(
    resolved, responder, client_for, django_assert_max_num_queries
):
    review = review_write(incident=resolved, by=responder, summary="s")
    playbook = PlaybookFactory()
    for n in range(12):
        action_item_add(review=review, by=responder, text=f"item {n}", owner=responder, playbook=playbook)
    client = client_for(responder)
    with django_assert_max_num_queries(12):
        assert client.get(url("review", resolved)).status_code == 200
