"""Journey in Chromium: a manager downloads an incident's archive from its page and the manifest proves every file."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from crisisdesk.models import AuditRecord
from tests.incidents.archive.helpers import POLISH, TURKISH, incident_with_everything

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_downloads_the_archive_and_its_manifest_holds(page, live_url, login, responder, manager, viewer,
                                                                browser, tmp_path, dialogs):  # fmt: skip
    archived = incident_with_everything(responder=responder, manager=manager)
    detail = f"{live_url}/incidents/{archived.incident.pk}/"

    login(page, manager)
    page.goto(detail)
    assert "Each download is recorded in the audit trail." in page.locator("#archive").inner_text()
    with page.expect_download() as info:
        page.locator("#export-archive").click()
    download = info.value
    assert download.suggested_filename.startswith(f"incident-{archived.incident.pk}-archive-")
    assert download.suggested_filename.endswith("Z.zip")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    with zipfile.ZipFile(path) as bundle:
        files = {info.filename.split("/", 1)[1]: bundle.read(info) for info in bundle.infolist()}
    manifest = json.loads(files.pop("manifest.json"))
    assert manifest["exported_by"] == manager.username and manifest["incident"]["id"] == archived.incident.pk
    assert {entry["name"] for entry in manifest["files"]} == set(files)
    for entry in manifest["files"]:
        data = files[entry["name"]]
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), entry[
            "name"
        ]
    mentions = files["mentions.csv"].decode("utf-8-sig")
    assert TURKISH in mentions and POLISH in mentions
    record = AuditRecord.objects.get(action="incident.archive.exported")
    assert record.actor == manager and record.after["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert dialogs == []

    # A viewer reading the same page finds no download.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        viewer_page = context.new_page()
        login(viewer_page, viewer)
        viewer_page.goto(detail)
        assert viewer_page.locator("#export-archive").count() == 0
        assert "A manager can download" in viewer_page.locator("#archive").inner_text()
    finally:
        context.close()
