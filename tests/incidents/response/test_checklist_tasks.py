"""Tasks: completing and reopening, who may, and what the page shows (phases, overdue)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crisisdesk.models import AuditRecord
from incidents.models import Task, TimelineEvent
from incidents.response.services import ResponseError, playbook_activate, task_complete, task_reopen
from tests.factories import IncidentFactory
from tests.incidents.response.helpers import ready_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(responder):
    playbook = ready_playbook()
    incident = IncidentFactory(scenario=playbook.scenario)
    playbook_activate(incident=incident, playbook=playbook, by=responder)
    return incident


def test_a_responder_completes_a_task_and_it_is_recorded(incident, responder):
    task = Task.objects.get(incident=incident, title="Confirm the facts")
    task_complete(task=task, by=responder)
    task.refresh_from_db()
    assert task.completed_by == responder and task.completed_at is not None
    event = TimelineEvent.objects.get(incident=incident, kind="task:completed")
    assert event.text == "Task completed: Confirm the facts" and event.actor == responder
    assert AuditRecord.objects.filter(action="task.completed", object_id=str(task.pk)).exists()


def test_a_late_completion_says_so(incident, responder):
    task = Task.objects.get(incident=incident, title="Confirm the facts")
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(minutes=5))
    task_complete(task=task, by=responder)
    assert "after its due time" in TimelineEvent.objects.get(incident=incident, kind="task:completed").text


def test_completing_twice_is_refused_and_undo_works(incident, responder, responder2):
    task = Task.objects.get(incident=incident, title="Confirm the facts")
    task_complete(task=task, by=responder)
    with pytest.raises(ResponseError, match="already done"):
        task_complete(task=task, by=responder2)
    task_reopen(task=task, by=responder2)
    task.refresh_from_db()
    assert task.completed_at is None and task.completed_by is None
    assert TimelineEvent.objects.filter(incident=incident, kind="task:reopened").count() == 1
    with pytest.raises(ResponseError, match="not done yet"):
        task_reopen(task=task, by=responder2)


def test_it_refuses_a_viewer(incident, viewer, client_for):
    task = Task.objects.get(incident=incident, title="Confirm the facts")
    with pytest.raises(PermissionDenied):
        task_complete(task=task, by=viewer)
    response = client_for(viewer).post(f"/incidents/{incident.pk}/tasks/{task.pk}/", {"done": "1"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.completed_at is None


def test_the_page_groups_by_phase_and_highlights_overdue(incident, responder, client_for):
    Task.objects.filter(incident=incident, title="Confirm the facts").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    html = client_for(responder).get(f"/incidents/{incident.pk}/").content.decode()
    tasks_html = html[html.index('id="tasks"') : html.index('id="drafts"')]
    assert (
        tasks_html.index("Pre-crisis")
        < tasks_html.index("During the crisis")
        < tasks_html.index("Post-crisis")
    )
    overdue = Task.objects.get(incident=incident, title="Confirm the facts")
    assert f'class="task is-overdue" id="task-{overdue.pk}"' in tasks_html
    assert "overdue since" in tasks_html


def test_done_through_the_page(incident, responder, client_for):
    task = Task.objects.get(incident=incident, title="Write the review")
    client = client_for(responder)
    response = client.post(f"/incidents/{incident.pk}/tasks/{task.pk}/", {"done": "1"})
    assert response.status_code == 302 and response.url.endswith(f"#task-{task.pk}")
    task.refresh_from_db()
    assert task.completed_by == responder
    client.post(f"/incidents/{incident.pk}/tasks/{task.pk}/", {"done": "0"})
    task.refresh_from_db()
    assert task.completed_at is None


def test_a_task_of_another_incident_is_not_found(incident, responder, client_for):
    other = IncidentFactory()
    task = Task.objects.filter(incident=incident).first()
    assert (
        client_for(responder).post(f"/incidents/{other.pk}/tasks/{task.pk}/", {"done": "1"}).status_code
        == 404
    )
