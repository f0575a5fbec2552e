"""The incident archive service: what the zip holds, that its manifest proves it, who may take it."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from crisisdesk.models import AuditRecord
from incidents.archive.services import incident_archive_export
from incidents.models import Evidence
from tests.factories import IncidentFactory
from tests.incidents.archive.helpers import (
    FORMULAS,
    POLISH,
    TURKISH,
    Archive,
    incident_with_everything,
    more_mentions,
)

pytestmark = pytest.mark.django_db

SECTIONS = ["timeline", "drafts", "draft_ledger", "replies", "evidence", "mentions"]
EXPORTED_AT = datetime(2026, 12, 2, 7, 30, 15, tzinfo=UTC)


@pytest.fixture
def archived(responder, manager):
    return incident_with_everything(responder=responder, manager=manager)


def export(incident, by):
    out = io.BytesIO()
    result = incident_archive_export(incident=incident, by=by, out=out)
    return result, Archive(out.getvalue())


def test_the_manifest_lists_every_file_with_its_size_and_sha256(archived, manager):
    _, archive = export(archived.incident, manager)

    listed = {entry["name"]: entry for entry in archive.manifest["files"]}
    assert set(listed) == set(archive.files) - {"manifest.json"}
    for name, data in archive.files.items():
        if name == "manifest.json":
            continue
        assert listed[name]["size"] == len(data), name
        assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest(), name


def test_every_section_is_there_as_csv_and_json(archived, manager):
    _, archive = export(archived.incident, manager)

    expected = {"incident.json", "manifest.json"} | {
        f"{s}.{ext}" for s in SECTIONS for ext in ("csv", "json")
    }
    assert set(archive.files) == expected
    assert archive.manifest["counts"] == {
        "timeline": len(archive.json("timeline.json")), "drafts": 1, "draft_ledger": 3, "replies": 1,
        "evidence": 1, "mentions": len(archived.mentions),
    }  # fmt: skip
    for section in SECTIONS:
        rows = list(csv.DictReader(io.StringIO(archive.csv_text(f"{section}.csv"))))
        assert len(rows) == archive.manifest["counts"][section], section


def test_the_sections_hold_the_incident_and_its_work(archived, manager, responder):
    _, archive = export(archived.incident, manager)

    incident = archive.json("incident.json")
    assert incident["id"] == archived.incident.pk
    assert incident["title"] == "Acme Air: bagaj sistemi çöktü"
    assert incident["status"] == "acknowledged" and incident["acknowledged_by"] == responder.username
    kinds = [event["kind"] for event in archive.json("timeline.json")]
    assert {"status:acknowledged", "draft:created", "draft:submitted", "draft:approved", "evidence"} <= set(
        kinds
    )

    (draft,) = archive.json("drafts.json")
    assert draft["status"] == "approved" and draft["author"] == responder.username
    assert draft["approver"] == manager.username and draft["body"] == "Bagajlarınız için üzgünüz."
    ledger = archive.json("draft_ledger.json")
    assert [(row["action"], row["actor"]) for row in ledger] == [
        ("draft.created", responder.username), ("draft.submitted", responder.username),
        ("draft.approved", manager.username),
    ]  # fmt: skip
    assert ledger[2]["before"]["status"] == "in_review" and ledger[2]["after"]["status"] == "approved"
    assert all(row["draft_id"] == str(archived.draft.pk) for row in ledger)

    (reply,) = archive.json("replies.json")
    assert reply["text"] == "Özür dileriz, DM attık." and reply["mention_id"] == archived.mentions[1].pk


def test_evidence_carries_its_hash_and_whether_the_snapshot_still_matches_it(archived, manager):
    Evidence.objects.create(
        incident=archived.incident,
        mention=archived.mentions[0],
        text="altered after capture",
        sha256="0" * 64,
    )
    _, archive = export(archived.incident, manager)

    good, altered = archive.json("evidence.json")
    assert good["sha256"] == archived.evidence.sha256 == good["sha256_recomputed"]
    assert good["sha256_matches"] is True and good["text"] == POLISH
    assert altered["sha256_matches"] is False
    rows = list(csv.DictReader(io.StringIO(archive.csv_text("evidence.csv"))))
    assert [row["sha256_matches"] for row in rows] == ["true", "false"]


def test_mention_text_is_verbatim_in_json_and_formulas_are_neutralised_in_csv(archived, manager):
    _, archive = export(archived.incident, manager)

    texts = [row["text"] for row in archive.json("mentions.json")]
    assert texts == [mention.text for mention in archived.mentions]  # oldest first, untouched
    rows = list(csv.DictReader(io.StringIO(archive.csv_text("mentions.csv")), strict=True))
    cells = [row["text"] for row in rows]
    for formula in FORMULAS:
        assert formula not in cells
        assert "'" + formula in cells
    assert "Acme Air lost my bag, terrible" in cells  # ordinary text is left alone
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    # Numbers stay numbers: a negative sentiment is ours, not a stranger's formula.
    assert {row["sentiment"] for row in rows} == {"-0.75"}
    assert archive.json("mentions.json")[0]["raw"] == {"id": 0, "text": "Acme Air lost my bag, terrible"}
    assert "raw" not in archive.csv_text("mentions.csv").splitlines()[0].split(",")


def test_turkish_and_polish_survive_in_both_formats(archived, manager):
    _, archive = export(archived.incident, manager)

    for name in ("mentions.csv", "evidence.csv"):
        assert archive.files[name].startswith(b"\xef\xbb\xbf"), name  # UTF-8 BOM, for Excel
    csv_text = archive.csv_text("mentions.csv")
    json_text = archive.files["mentions.json"].decode("utf-8")
    for text in (TURKISH, POLISH, "şahin1"):
        assert text in csv_text and text in json_text  # written as characters, not \\u escapes


def test_times_are_iso_8601_in_utc_and_the_manifest_says_who_and_when(archived, manager):
    with time_machine.travel(EXPORTED_AT, tick=False):
        result, archive = export(archived.incident, manager)

    manifest = archive.manifest
    assert manifest["incident"] == {"id": archived.incident.pk, "title": "Acme Air: bagaj sistemi çöktü"}
    assert manifest["exported_at"] == "2026-12-02T07:30:15+00:00"
    assert manifest["exported_by"] == manager.username
    assert manifest["time_zone"] == "UTC" and manifest["app_version"] == "0.1.0"
    assert manifest["format"] == "crisisdesk-incident-archive/1"
    assert result.filename == f"incident-{archived.incident.pk}-archive-20261202T073015Z.zip"
    assert {name.split("/")[0] for name in archive.names} == {result.filename.removesuffix(".zip")}
    incident = archive.json("incident.json")
    assert incident["detected_at"] == "2026-12-01T09:00:00+00:00"
    for row in archive.json("mentions.json"):
        assert datetime.fromisoformat(row["published_at"]).utcoffset().total_seconds() == 0


def test_every_export_leaves_an_audit_row_naming_the_file(archived, manager):
    result, archive = export(archived.incident, manager)

    record = AuditRecord.objects.get(action="incident.archive.exported")
    assert record.actor == manager
    assert (record.object_type, record.object_id) == ("incidents.incident", str(archived.incident.pk))
    assert record.after["sha256"] == hashlib.sha256(archive.data).hexdigest() == result.sha256
    assert record.after["size"] == len(archive.data) == result.size
    assert record.after["manifest_sha256"] == hashlib.sha256(archive.files["manifest.json"]).hexdigest()
    assert record.after["via"] == "page" and record.after["counts"]["mentions"] == len(archived.mentions)
    assert record.pk == result.audit_id

    export(archived.incident, manager)
    assert AuditRecord.objects.filter(action="incident.archive.exported").count() == 2


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_it_refuses_viewers_and_responders(archived, role, request):
    member = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        incident_archive_export(incident=archived.incident, by=member, out=io.BytesIO())
    assert not AuditRecord.objects.filter(action="incident.archive.exported").exists()


def test_managers_and_admins_may_export_and_the_system_too(archived, admin_member):
    result, archive = export(archived.incident, admin_member)
    assert archive.manifest["exported_by"] == admin_member.username

    result, archive = export(archived.incident, None)
    assert archive.manifest["exported_by"] is None
    assert AuditRecord.objects.get(pk=result.audit_id).actor is None


def test_an_inactive_manager_is_refused(archived, manager):
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        incident_archive_export(
            incident=archived.incident, by=User.objects.get(pk=manager.pk), out=io.BytesIO()
        )


def test_an_incident_with_nothing_yet_still_has_every_section(manager):
    _, archive = export(IncidentFactory(), manager)
    for section in SECTIONS:
        assert archive.json(f"{section}.json") == [] or section == "timeline"
        header = archive.csv_text(f"{section}.csv").splitlines()[0]
        assert header.startswith("id,"), section


def test_the_query_count_stays_flat_however_many_mentions(archived, manager, django_assert_num_queries):
    def counted_export(expected_mentions: int) -> None:
        member = User.objects.get(pk=manager.pk)  # a fresh object: no permission cache carried over
        with django_assert_num_queries(QUERIES):
            result, _ = export(archived.incident, member)
        assert result.counts["mentions"] == expected_mentions

    counted_export(len(archived.mentions))
    more_mentions(archived.incident, 2500)  # more than one fetch chunk
    counted_export(len(archived.mentions) + 2500)


# Savepoint + release, two permission reads (user, groups), the incident with its people, one read per
# section (timeline, drafts, draft ledger, replies, evidence, mentions) and the audit row.
QUERIES = 12
