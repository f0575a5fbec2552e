"""incidents.nudges: tasks are enqueued by name, and only once the transaction commits."""

from __future__ import annotations

from unittest import mock

import pytest

import incidents.tasks  # noqa: F401 - registers the tasks the nudges name
from crisisdesk.celery import app as celery_app
from incidents import nudges

pytestmark = pytest.mark.django_db


def test_every_nudge_names_a_registered_task():
    assert nudges.DELIVER_NOTIFICATION in celery_app.tasks


def test_a_delivery_nudge_waits_for_the_commit(django_capture_on_commit_callbacks):
    with mock.patch.object(celery_app, "send_task") as send, django_capture_on_commit_callbacks(execute=True):
        nudges.deliver_notification(7, countdown=30)
        assert not send.called  # nothing leaves before the commit
    (name, args, *_), options = send.call_args
    assert (name, tuple(args)) == ("incidents.tasks.deliver_notification", (7,))
    assert options["countdown"] == 30
