"""The archive download on the incident page: a manager's POST answers with the zip; nobody else gets it."""

from __future__ import annotations

import hashlib

import pytest

from crisisdesk.models import AuditRecord
from tests.incidents.archive.helpers import Archive, incident_with_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(responder, manager):
    return incident_with_everything(responder=responder, manager=manager)


def url(incident) -> str:
    return f"/incidents/{incident.pk}/archive/"


def test_a_manager_downloads_the_zip(archived, manager, client_for):
    response = client_for(manager).post(url(archived.incident))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    data = b"".join(response.streaming_content)
    record = AuditRecord.objects.get(action="incident.archive.exported")
    assert response["Content-Disposition"] == f'attachment; filename="{record.after["filename"]}"'
    assert response["X-Archive-SHA256"] == hashlib.sha256(data).hexdigest() == record.after["sha256"]
    assert int(response["Content-Length"]) == len(data)
    archive = Archive(data)
    assert archive.manifest["exported_by"] == manager.username
    assert archive.manifest["counts"]["mentions"] == len(archived.mentions)


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_it_refuses_viewers_and_responders(archived, role, request, client_for):
    response = client_for(request.getfixturevalue(role)).post(url(archived.incident))

    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action="incident.archive.exported").exists()


def test_it_is_a_post_so_no_link_elsewhere_can_trigger_an_export(archived, manager, client_for):
    assert client_for(manager).get(url(archived.incident)).status_code == 405
    assert not AuditRecord.objects.filter(action="incident.archive.exported").exists()


def test_an_unknown_incident_is_a_404(manager, client_for):
    assert client_for(manager).post("/incidents/999999/archive/").status_code == 404


def test_the_incident_page_offers_the_download_to_managers_only(archived, manager, viewer, client_for):
    page = client_for(manager).get(f"/incidents/{archived.incident.pk}/").content.decode()
    assert 'id="export-archive"' in page and f'action="{url(archived.incident)}"' in page

    page = client_for(viewer).get(f"/incidents/{archived.incident.pk}/").content.decode()
    assert 'id="export-archive"' not in page
    assert "A manager can download this incident's archive" in page
