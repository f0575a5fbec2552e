"""Import pages: upload an export, follow its progress, queue a stalled one again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crisisdesk.models import AuditRecord
from monitoring import tasks
from monitoring.intake.imports import services
from monitoring.models import Mention, Source, Watch
from tests.factories import SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def watch() -> Watch:
    return WatchFactory(name="Acme Air", include_terms=["acme air", "acmeair"])


def text_of(response) -> str:
    return response.content.decode()


CSV = (
    "id,date,author,text,url\n"
    "a1,2026-11-16 09:30,@jen,Acme Air lost my bag <script>alert(1)</script>,https://example.org/1\n"
    "a2,not a date,@ayse,Acme Air rezalet! Param iade edilmedi,https://example.org/2\n"
    "a3,2026-11-16 09:32,@kasia,Acme Air nie odpowiada,https://example.org/3\n"
)


def test_an_import_upload_end_to_end(client_for, manager, watch, django_capture_on_commit_callbacks):
    client = client_for(manager)
    upload = SimpleUploadedFile("brandwatch.csv", CSV.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("monitoring:import_upload"), {"new_for_watch": watch.pk, "file": upload}
        )

    assert response.status_code == 302
    status_url = response["Location"]
    upload_id = status_url.rstrip("/").rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{32}", upload_id)
    assert "Queued" in text_of(client.get(status_url))
    fragment = text_of(client.get(status_url, HTTP_HX_REQUEST="true"))
    assert 'hx-trigger="every 1s"' in fragment and "<html" not in fragment
    assert len(callbacks) >= 1

    assert tasks.import_upload(upload_id) == "done"  # what the worker runs

    fragment = text_of(client.get(status_url, HTTP_HX_REQUEST="true"))
    assert "hx-trigger" not in fragment  # finished: the fragment stops polling
    assert re.search(r'class="import-created">2<', fragment)
    assert re.search(r'class="import-errors">1<', fragment)
    assert "date" in fragment
    source = Source.objects.get(watch=watch, kind="import")
    assert Mention.objects.filter(source=source).count() == 2
    assert AuditRecord.objects.filter(action="source.import", actor=manager).exists()


def test_the_upload_form_requires_a_target_and_a_readable_file(client_for, manager, watch):
    client = client_for(manager)
    response = client.post(
        reverse("monitoring:import_upload"),
        {
            "file": SimpleUploadedFile("export.xlsx", b"PK\x03\x04"),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "source" in errors and "file" in errors


def test_an_unknown_upload_is_a_404(client_for, manager):
    assert client_for(manager).get(reverse("monitoring:import_status", args=["f" * 32])).status_code == 404
    assert client_for(manager).get("/monitoring/imports/..%2F..%2Fsecret/").status_code == 404


def test_a_stalled_upload_can_be_queued_again(client_for, manager, watch, django_capture_on_commit_callbacks):
    source = SourceFactory(watch=watch, kind="import")
    upload_id = services.import_upload_store(
        source=source, fileobj=SimpleUploadedFile("a.csv", CSV.encode()), filename="a.csv", by=manager
    )
    client = client_for(manager)
    retry = reverse("monitoring:import_retry", args=[upload_id])
    client.post(retry)  # not stalled yet: refused
    assert not AuditRecord.objects.filter(action="source.import_retried").exists()

    status = services.import_status_read(upload_id)
    services.import_status_write(upload_id, status)
    old = (timezone.now() - timedelta(minutes=5)).isoformat()
    path = services.uploads_dir() / f"{upload_id}.json"
    path.write_text(
        path.read_text()
        .replace(status["created_at"], old)
        .replace(services.import_status_read(upload_id)["updated_at"], old)
    )
    assert "Queue it again" in text_of(client.get(reverse("monitoring:import_status", args=[upload_id])))
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(retry)
    assert len(callbacks) == 1
    assert AuditRecord.objects.filter(action="source.import_retried").exists()
    assert client_for(manager).post(reverse("monitoring:import_retry", args=["0" * 32])).status_code == 404
