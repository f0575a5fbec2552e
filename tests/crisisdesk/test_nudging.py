"""crisisdesk.nudging: a nudge waits for the commit, names a registered task, and a broker that
refuses it never turns committed work into an error."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from kombu.exceptions import OperationalError as BrokerError

import incidents.tasks  # noqa: F401 - registers the tasks the nudges name
import monitoring.tasks  # noqa: F401
from crisisdesk.celery import app as celery_app
from crisisdesk.nudging import enqueue_after_commit, enqueue_now
from incidents import nudges as incident_nudges
from monitoring import nudges as monitoring_nudges

pytestmark = pytest.mark.django_db


def test_every_nudge_names_a_registered_task():
    for name in (*monitoring_nudges.TASK_NAMES, incident_nudges.DELIVER_NOTIFICATION):
        assert name in celery_app.tasks, name


def test_a_nudge_is_sent_only_after_the_commit(django_capture_on_commit_callbacks):
    with mock.patch.object(celery_app, "send_task") as send, django_capture_on_commit_callbacks(execute=True):
        monitoring_nudges.detect_watches([3, 4])
        assert not send.called
    assert [call.args[0] for call in send.call_args_list] == ["monitoring.tasks.detect_watch"] * 2
    assert [tuple(call.args[1]) for call in send.call_args_list] == [(3,), (4,)]


def test_a_broker_that_refuses_the_nudge_is_logged_not_raised(django_capture_on_commit_callbacks, caplog):
    refused = mock.patch.object(celery_app, "send_task", side_effect=BrokerError("connection refused"))
    with refused, caplog.at_level(logging.WARNING, logger="crisisdesk.nudging"):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_after_commit("monitoring.tasks.detect_watch", 9)
        assert enqueue_now("monitoring.tasks.poll_source", 1) is False
    assert "the sweeper will send it again" in caplog.text


@pytest.mark.parametrize(
    "nudge",
    [
        lambda: monitoring_nudges.poll_source(1),
        lambda: monitoring_nudges.poll_sources([1, 2]),
        lambda: monitoring_nudges.score_new_mentions(),
        lambda: monitoring_nudges.detect_watches([1]),
        lambda: monitoring_nudges.escalate_signals([1]),
        lambda: monitoring_nudges.import_upload("00000000-0000-0000-0000-000000000000"),
        lambda: monitoring_nudges.after_ingest(watch_id=1, score=True),
        lambda: incident_nudges.deliver_notification(1, countdown=5),
    ],
    ids=["poll", "poll-many", "score", "detect", "escalate", "import", "after-ingest", "deliver"],
)
def test_no_nudge_raises_with_the_broker_unreachable(nudge, django_capture_on_commit_callbacks):
    refused = mock.patch.object(celery_app, "send_task", side_effect=BrokerError("connection refused"))
    with refused as send, django_capture_on_commit_callbacks(execute=True):
        nudge()
    assert send.called
