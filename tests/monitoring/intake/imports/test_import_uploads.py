"""Import uploads: stored under a random name, imported by the worker with progress, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from monitoring.intake.imports import services
from monitoring.models import Mention, Watch
from tests.factories import SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


CSV = (
    "id,date,author,text,url\n"
    "a1,2026-11-16 09:30,@jen,Acme Air lost my bag,https://example.org/1\n"
    "a2,not a date,@ayse,Acme Air rezalet,https://example.org/2\n"
    "a3,2026-11-16 09:32,@kasia,Acme Air nie odpowiada,https://example.org/3\n"
)


def test_an_upload_is_stored_under_a_random_name_then_imported_with_progress(
    manager, django_capture_on_commit_callbacks
):
    source = SourceFactory(kind="import", watch=WatchFactory(name="Acme Air", include_terms=["acme"]))

    with django_capture_on_commit_callbacks() as callbacks:
        upload_id = services.import_upload_store(
            source=source, fileobj=io.BytesIO(CSV.encode()), filename="export.csv", by=manager
        )
    assert len(callbacks) == 1
    assert services.import_status_read(upload_id)["state"] == "queued"
    assert (services.uploads_dir() / f"{upload_id}.data").read_bytes() == CSV.encode()

    status = services.import_upload_run(upload_id=upload_id)

    assert status["state"] == "done"
    assert (status["rows"], status["created"], status["error_count"]) == (3, 2, 1)
    assert status["errors"][0]["row"] == 3
    assert Mention.objects.filter(source=source).count() == 2
    assert not (services.uploads_dir() / f"{upload_id}.data").exists()
    # Running it again (a duplicated message) changes nothing.
    assert services.import_upload_run(upload_id=upload_id)["created"] == 2
    assert Mention.objects.filter(source=source).count() == 2


def test_an_upload_id_that_is_not_ours_is_unknown():
    assert services.import_status_read("../../etc/passwd") is None
    assert services.import_status_read("0" * 32) is None


def test_an_upload_of_an_unreadable_type_is_refused(manager):
    source = SourceFactory(kind="import")
    with pytest.raises(ValidationError):
        services.import_upload_store(
            source=source, fileobj=io.BytesIO(b"x"), filename="export.xlsx", by=manager
        )


def test_import_source_for_reuses_the_watch_import_source(manager):
    watch = WatchFactory()
    first = services.import_source_for(watch=watch, by=manager)
    assert services.import_source_for(watch=watch, by=manager) == first
    assert first.kind == "import"
    assert Watch.objects.count() == 1
