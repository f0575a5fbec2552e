"""Imports that crash or stall: shown as failed with the reason, retried without duplicates, re-sent
by the sweeper and given up on after a few attempts."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from crisisdesk.models import AuditRecord
from monitoring import tasks
from monitoring.errors import MonitoringRefusal
from monitoring.intake.imports import importer, services
from monitoring.models import Mention
from tests.factories import SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db

ROWS = [
    ("b1", "2026-11-16 09:30", "@jen", "Acme Air lost my bag"),
    ("b2", "2026-11-16 09:31", "@ayse", "Acme Air rezalet"),
    ("b3", "2026-11-16 09:32", "@kasia", "Acme Air nie odpowiada"),
    ("b4", "2026-11-16 09:33", "@budi", "Acme Air tidak membalas"),
    ("b5", "2026-11-16 09:34", "@sam", "Acme Air cancelled again"),
]
CSV = "id,date,author,text\n" + "".join(",".join(row) + "\n" for row in ROWS)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def source():
    return SourceFactory(kind="import", watch=WatchFactory(name="Acme Air", include_terms=["acme"]))


@pytest.fixture
def crash_on_second_chunk(monkeypatch):
    """Chunks of two rows; the second chunk's ingest raises once, as a bug halfway through would."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    real_ingest = importer.ingest_items
    calls = {"n": 0}

    def ingest_then_crash(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker fell over")
        return real_ingest(**kwargs)

    monkeypatch.setattr(importer, "ingest_items", ingest_then_crash)
    return calls


def store(source, by, text=CSV, filename="export.csv") -> str:
    return services.import_upload_store(
        source=source, fileobj=io.BytesIO(text.encode()), filename=filename, by=by
    )


def age(upload_id: str, minutes: int) -> None:
    """Make the upload's status look ``minutes`` old (its worker silent since)."""
    path = services.uploads_dir() / f"{upload_id}.json"
    status = json.loads(path.read_text())
    status["updated_at"] = (timezone.now() - timedelta(minutes=minutes)).isoformat()
    path.write_text(json.dumps(status))


def test_a_task_that_raises_mid_file_shows_failed_and_a_retry_stores_the_rest_once(
    source, manager, client_for, crash_on_second_chunk, django_capture_on_commit_callbacks
):
    upload_id = store(source, manager)

    assert tasks.import_upload(upload_id) == "failed"

    status = services.import_status_read(upload_id)
    assert status["retryable"] is True
    assert (services.uploads_dir() / f"{upload_id}.data").exists()  # kept for the retry
    assert "RuntimeError: worker fell over" in status["message"]
    assert "after 2 rows" in status["message"]
    assert Mention.objects.filter(source=source).count() == 2  # the first chunk stays stored
    page = client_for(manager).get(reverse("monitoring:import_status", args=[upload_id])).content.decode()
    assert "The import failed" in page and "worker fell over" in page
    assert 'class="import-retry"' in page
    assert "hx-trigger" not in page  # a failed import stops polling

    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(manager).post(reverse("monitoring:import_retry", args=[upload_id]))
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert services.import_status_read(upload_id)["state"] == "queued"
    retried = AuditRecord.objects.get(action="source.import_retried")
    assert retried.actor == manager and retried.before["state"] == "failed"

    assert tasks.import_upload(upload_id) == "done"

    status = services.import_status_read(upload_id)
    assert (status["rows"], status["created"], status["duplicates"]) == (5, 3, 2)
    assert sorted(Mention.objects.filter(source=source).values_list("external_id", flat=True)) == [
        "b1",
        "b2",
        "b3",
        "b4",
        "b5",
    ]


def test_a_retry_of_rows_without_ids_stores_each_row_once(source, manager, crash_on_second_chunk):
    without_ids = "date,author,text\n" + "".join(",".join(row[1:]) + "\n" for row in ROWS)
    upload_id = store(source, manager, text=without_ids)
    assert tasks.import_upload(upload_id) == "failed"

    services.import_upload_retry(upload_id=upload_id, by=manager)
    assert tasks.import_upload(upload_id) == "done"

    assert Mention.objects.filter(source=source).count() == 5
    assert services.import_status_read(upload_id)["created"] == 3


def test_a_retry_is_refused_when_there_is_nothing_to_retry(source, manager, crash_on_second_chunk):
    upload_id = store(source, manager)
    with pytest.raises(MonitoringRefusal):  # queued and fresh: a worker will pick it up
        services.import_upload_retry(upload_id=upload_id, by=manager)

    assert tasks.import_upload(upload_id) == "failed"
    services.import_upload_retry(upload_id=upload_id, by=manager)
    with pytest.raises(MonitoringRefusal):  # the double click: queued once
        services.import_upload_retry(upload_id=upload_id, by=manager)
    assert AuditRecord.objects.filter(action="source.import_retried").count() == 1

    assert tasks.import_upload(upload_id) == "done"
    with pytest.raises(MonitoringRefusal):
        services.import_upload_retry(upload_id=upload_id, by=manager)


def test_a_file_that_cannot_be_read_fails_without_a_retry(source, manager, client_for):
    upload_id = store(source, manager, text="Report:,Something\nfoo,bar\n")
    assert tasks.import_upload(upload_id) == "failed"

    status = services.import_status_read(upload_id)
    assert status["retryable"] is False and "No text column" in status["message"]
    assert not (services.uploads_dir() / f"{upload_id}.data").exists()  # no retry will need it
    with pytest.raises(MonitoringRefusal):
        services.import_upload_retry(upload_id=upload_id, by=manager)
    page = client_for(manager).get(reverse("monitoring:import_status", args=[upload_id])).content.decode()
    assert "No text column" in page and 'class="import-retry"' not in page


@pytest.mark.parametrize("persona", ["responder", "viewer"])
def test_only_a_manager_may_retry(request, source, manager, crash_on_second_chunk, persona):
    upload_id = store(source, manager)
    tasks.import_upload(upload_id)
    with pytest.raises(PermissionDenied):
        services.import_upload_retry(upload_id=upload_id, by=request.getfixturevalue(persona))
    assert services.import_status_read(upload_id)["state"] == "failed"


def test_a_database_fault_puts_the_import_back_in_the_queue_for_the_task_retry(source, manager, monkeypatch):
    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(importer, "ingest_items", database_gone)
    upload_id = store(source, manager)

    with pytest.raises(OperationalError):
        services.import_upload_run(upload_id=upload_id)
    assert services.import_status_read(upload_id)["state"] == "queued"

    monkeypatch.undo()
    assert services.import_upload_run(upload_id=upload_id)["state"] == "done"
    assert Mention.objects.filter(source=source).count() == 5


def test_the_sweeper_resends_an_import_whose_worker_died(
    source, manager, client_for, django_capture_on_commit_callbacks
):
    upload_id = store(source, manager)
    # A worker claimed it, then was killed: the status says "running" and nothing updates it.
    status = services.import_status_read(upload_id)
    services.import_status_write(upload_id, {**status, "state": "running", "runs": 1, "done": 0})
    assert services.import_upload_run(upload_id=upload_id)["state"] == "running"  # not stalled yet

    age(upload_id, minutes=int(services.UPLOAD_STALE.total_seconds() // 60) + 1)
    page = client_for(manager).get(reverse("monitoring:import_status", args=[upload_id])).content.decode()
    assert "stopped reporting progress" in page and "sent 1 of at most 3 times" in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        nudged = tasks.sweep()

    assert nudged["import"] == 1 and len(callbacks) == 1
    status = services.import_status_read(upload_id)
    assert (status["state"], status["attempts"]) == ("queued", 2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.sweep()["import"] == 0  # the clock restarted: no second message at once
    assert tasks.import_upload(upload_id) == "done"
    assert services.import_status_read(upload_id)["runs"] == 2
    assert Mention.objects.filter(source=source).count() == 5


def test_the_sweeper_resends_a_queued_import_whose_message_was_lost(source, manager):
    upload_id = store(source, manager)
    age(upload_id, minutes=1)
    assert services.import_uploads_sweep().requeued == []  # a worker may still be on its way
    age(upload_id, minutes=3)
    assert services.import_uploads_sweep().requeued == [upload_id]


def test_the_sweeper_gives_up_after_the_last_attempt(source, manager, client_for):
    upload_id = store(source, manager)
    status = services.import_status_read(upload_id)
    services.import_status_write(
        upload_id,
        {**status, "state": "running", "runs": 3, "attempts": services.IMPORT_MAX_ATTEMPTS},
    )
    age(upload_id, minutes=60)

    sweep = services.import_uploads_sweep()

    assert sweep.failed == [upload_id] and sweep.requeued == []
    status = services.import_status_read(upload_id)
    assert status["state"] == "failed" and status["retryable"] is True
    assert "3 times" in status["message"]
    assert AuditRecord.objects.filter(action="source.import_failed", actor=None).exists()
    page = client_for(manager).get(reverse("monitoring:import_status", args=[upload_id])).content.decode()
    assert "never finished" in page and 'class="import-retry"' in page

    services.import_upload_retry(upload_id=upload_id, by=manager)
    assert services.import_status_read(upload_id)["attempts"] == 1  # a member's retry starts afresh
    assert tasks.import_upload(upload_id) == "done"
    assert Mention.objects.filter(source=source).count() == 5


def test_the_sweeper_leaves_finished_and_fresh_imports_alone(source, manager, tmp_path, settings):
    assert services.import_uploads_sweep().requeued == []  # no uploads folder yet: nothing, none made
    assert not (tmp_path / "media" / "imports").exists()
    done = store(source, manager)
    tasks.import_upload(done)
    fresh = store(source, manager)
    age(done, minutes=60)

    sweep = services.import_uploads_sweep()

    assert (sweep.requeued, sweep.failed) == ([], [])
    assert services.import_status_read(fresh)["state"] == "queued"


def test_a_run_that_was_superseded_stops_without_writing(source, manager, monkeypatch):
    """A slow worker declared dead keeps going until its next progress report, then yields to the
    newer run: the two never both write the outcome."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    upload_id = store(source, manager)
    real_ingest = importer.ingest_items

    def ingest_while_a_newer_run_claims(**kwargs):
        current = services.import_status_read(upload_id)
        services.import_status_write(upload_id, {**current, "runs": 2, "state": "running"})
        return real_ingest(**kwargs)

    monkeypatch.setattr(importer, "ingest_items", ingest_while_a_newer_run_claims)

    status = services.import_upload_run(upload_id=upload_id)

    assert (status["state"], status["runs"]) == ("running", 2)
    assert Mention.objects.filter(source=source).count() == 2  # stopped after its first chunk
