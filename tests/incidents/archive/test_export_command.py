"""``manage.py export_incident ID PATH``: the same archive for legal holds, never overwriting a file."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crisisdesk.models import AuditRecord
from tests.incidents.archive.helpers import Archive, incident_with_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(responder, manager):
    return incident_with_everything(responder=responder, manager=manager)


def run(*args: str) -> str:
    out = StringIO()
    call_command("export_incident", *args, stdout=out)
    return out.getvalue()


def test_it_writes_the_archive_and_records_the_system_as_exporter(archived, tmp_path):
    target = tmp_path / "hold.zip"
    output = run(str(archived.incident.pk), str(target))

    data = target.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert f"SHA-256 {digest}" in output and f"mentions {len(archived.mentions)}" in output
    archive = Archive(data)
    assert archive.manifest["exported_by"] is None and archive.manifest["exported_via"] == "command"
    record = AuditRecord.objects.get(action="incident.archive.exported")
    assert record.actor is None and record.after["sha256"] == digest and record.after["via"] == "command"
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind


def test_into_a_folder_it_uses_the_archives_own_name(archived, tmp_path):
    run(str(archived.incident.pk), str(tmp_path))

    (written,) = tmp_path.iterdir()
    assert written.name == AuditRecord.objects.get(action="incident.archive.exported").after["filename"]


def test_by_names_the_member_who_asked(archived, manager, tmp_path):
    run(str(archived.incident.pk), str(tmp_path / "a.zip"), "--by", manager.username)

    assert AuditRecord.objects.get(action="incident.archive.exported").actor == manager


def test_it_refuses_a_member_without_the_permission(archived, viewer, tmp_path):
    with pytest.raises(CommandError, match="may not export"):
        run(str(archived.incident.pk), str(tmp_path / "a.zip"), "--by", viewer.username)
    assert list(tmp_path.iterdir()) == []
    assert not AuditRecord.objects.filter(action="incident.archive.exported").exists()


def test_it_never_overwrites_a_file(archived, tmp_path):
    target = tmp_path / "hold.zip"
    target.write_bytes(b"an earlier hold")

    with pytest.raises(CommandError, match="never overwrites"):
        run(str(archived.incident.pk), str(target))
    assert target.read_bytes() == b"an earlier hold"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999", "{tmp}/a.zip"], "No incident #999999"),
        (["{pk}", "{tmp}/missing/a.zip"], "No such folder"),
        (["{pk}", "{tmp}/a.zip", "--by", "nobody"], "No active team member"),
    ],
)
def test_it_explains_what_is_wrong(archived, tmp_path, args, message):
    args = [arg.format(pk=archived.incident.pk, tmp=tmp_path) for arg in args]
    with pytest.raises(CommandError, match=message):
        run(*args)
