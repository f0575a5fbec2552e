"""Exporting an incident's archive: the zip an auditor or a legal hold takes away, and its audit row.

The archive (``incident-<id>-archive-<UTC stamp>.zip``, one folder of the same name inside) holds:

- ``incident.json`` — the incident: title, watch, scenario, playbook, severity, status, owner and
  every transition with who made it;
- ``timeline``, ``drafts``, ``draft_ledger`` (the audit rows of each draft: written, edited,
  submitted, approved, returned, published — who and when, the state before and after),
  ``replies``, ``evidence`` (the stored SHA-256 and the one recomputed from the snapshot now, with
  whether they match) and ``mentions`` (every mention attached to the incident, text verbatim, and
  the payload as the source sent it) — each as ``.csv`` and ``.json`` (formats:
  ``incidents.archive.bundle``);
- ``manifest.json`` — every other file with its size, SHA-256 and row count, and the export's own
  facts: incident id, exported_at, exported_by, app version, time zone (UTC), formats.

Who may export: ``crisisdesk.roles.EXPORT_INCIDENTS`` (managers and admins). Viewers and
responders read the same incident on its page, but a copy that leaves CrisisDesk — evidence and every
stranger's post — is a manager's call. Every export writes an audit row on the incident
(``incident.archive.exported``: who, when, how — page or command — the row counts, and the SHA-256 of
the zip and of its manifest), so a legal hold can prove which file it received. The timeline is not
written: an export changes nothing about the crisis, and a closed incident's timeline stays as it
was closed.

All sections are read in one transaction: on PostgreSQL a REPEATABLE READ snapshot (mentions keep
arriving on an open incident; the CSV and JSON of a section come from one pass anyway), on SQLite
the transaction is a snapshot by nature (it holds laptop mode's write lock for the export's
duration: about a second per 10,000 mentions).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisdesk.audit.services import audit_record
from crisisdesk.roles import EXPORT_INCIDENTS, ensure_permission
from crisisdesk.spreadsheet import CSV_ENCODING, FORMULA_PREFIXES, iso
from crisisdesk.types import Member
from incidents.archive import selectors
from incidents.archive.bundle import ArchiveWriter
from incidents.models import Incident
from incidents.response.services import evidence_hash

ARCHIVE_FORMAT = "crisisdesk-incident-archive/1"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ArchiveExport:
    """What an export wrote: the zip's suggested file name, size and SHA-256, and its audit row."""

    incident_id: int
    filename: str
    size: int
    sha256: str
    manifest_sha256: str
    counts: dict[str, int]
    exported_at: datetime
    audit_id: int


@cache
def app_version() -> str:
    """CrisisDesk's version, from ``pyproject.toml`` (the image ships it beside the code)."""
    try:
        with (settings.BASE_DIR / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def archive_filename(incident_id: int, at: datetime) -> str:
    return f"incident-{incident_id}-archive-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.zip"


def _names(columns: list[tuple[str, str]]) -> list[str]:
    return [name for name, _lookup in columns]


def _username(user: Member | None) -> str | None:
    return user.get_username() if user is not None else None


def _when(at: datetime | None) -> str | None:
    return iso(at) if at is not None else None


def incident_record(incident: Incident) -> dict[str, Any]:
    """``incident.json``: the incident as it stands, times in ISO UTC, people by username."""
    return {
        "id": incident.pk,
        "title": incident.title,
        "watch": {"id": incident.watch_id, "name": incident.watch.name},
        "scenario": {"id": incident.scenario_id, "name": incident.scenario.name}
        if incident.scenario
        else None,
        "scenario_hint": incident.scenario_hint,
        "playbook": {"id": incident.playbook_id, "name": str(incident.playbook)}
        if incident.playbook
        else None,
        "severity": f"SEV{incident.severity}",
        "status": incident.status,
        "owner": _username(incident.owner),
        "summary": incident.summary,
        "first_signal_at": _when(incident.first_signal_at),
        "detected_at": _when(incident.detected_at),
        "acknowledged_at": _when(incident.acknowledged_at),
        "acknowledged_by": _username(incident.acknowledged_by),
        "responding_at": _when(incident.responding_at),
        "monitoring_at": _when(incident.monitoring_at),
        "resolved_at": _when(incident.resolved_at),
        "resolved_by": _username(incident.resolved_by),
        "closed_at": _when(incident.closed_at),
        "closed_by": _username(incident.closed_by),
        "first_response_minutes": incident.first_response_minutes,
        "escalation_tier": incident.escalation_tier,
        "updated_at": _when(incident.updated_at),
    }


EVIDENCE_CHECK = ["sha256_recomputed", "sha256_matches"]


def _verified(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Evidence rows with the hash recomputed from the snapshot (the same canonical content as at capture)."""
    for row in rows:
        published = row["published_at"]
        digest = evidence_hash(
            {
                "author": row["author"] or "",
                "published_at": iso(published) if published else "",
                "text": row["text"] or "",
                "url": row["url"] or "",
            }
        )
        yield {**row, "sha256_recomputed": digest, "sha256_matches": digest == row["sha256"]}


def _one_snapshot() -> None:
    """On PostgreSQL, make this (outermost) transaction one snapshot for every section it reads.

    Must be the transaction's first statement; inside an outer transaction (a test, a caller's own
    ``atomic``) the outer one decides and this does nothing.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    stream.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def incident_archive_export(
    *, incident: Incident, by: Member | None, out: IO[bytes], via: str = "page"
) -> ArchiveExport:
    """Write ``incident``'s archive zip into ``out`` and record who took it.

    ``out`` is a binary file opened for reading and writing (a spooled temporary file for a download,
    the target file for the command); it is left open, positioned at 0. ``by`` must hold
    ``EXPORT_INCIDENTS`` (``PermissionDenied`` otherwise); ``None`` is the system (``manage.py
    export_incident`` without ``--by``). ``via`` says how it was asked for (``page``, ``command``) in
    the audit row. Raises ``Incident.DoesNotExist`` for an incident that is gone.
    """
    _one_snapshot()
    ensure_permission(by, EXPORT_INCIDENTS, _("Your role may not export incident archives."))
    incident = selectors.archive_incident(incident.pk)
    now = timezone.now()
    filename = archive_filename(incident.pk, now)
    writer = ArchiveWriter(out, folder=filename.removesuffix(".zip"), written_at=now)
    writer.add_json("incident.json", incident_record(incident))
    counts = {
        "timeline": writer.add_section(
            "timeline", _names(selectors.TIMELINE_COLUMNS), selectors.timeline_rows(incident)),
        "drafts": writer.add_section("drafts", _names(selectors.DRAFT_COLUMNS), selectors.draft_rows(incident)),
        "draft_ledger": writer.add_section(
            "draft_ledger", _names(selectors.DRAFT_LEDGER_COLUMNS), selectors.draft_ledger_rows(incident)),
        "replies": writer.add_section("replies", _names(selectors.REPLY_COLUMNS), selectors.reply_rows(incident)),
        "evidence": writer.add_section(
            "evidence", _names(selectors.EVIDENCE_COLUMNS) + EVIDENCE_CHECK,
            _verified(selectors.evidence_rows(incident))),
        "mentions": writer.add_section(
            "mentions", _names(selectors.MENTION_COLUMNS), selectors.mention_rows(incident), json_only=["raw"]),
    }  # fmt: skip
    manifest = {
        "format": ARCHIVE_FORMAT,
        "incident": {"id": incident.pk, "title": incident.title},
        "exported_at": iso(now),
        "exported_by": _username(by),
        "exported_via": via,
        "app": "CrisisDesk",
        "app_version": app_version(),
        "time_zone": "UTC",
        "formats": {
            "json": "UTF-8; text verbatim; times ISO 8601 in UTC",
            "csv": (
                f"RFC 4180, {CSV_ENCODING} (UTF-8 with BOM); a text cell starting with one of "
                f"{' '.join(repr(prefix) for prefix in FORMULA_PREFIXES)} is prefixed with ' "
                "against spreadsheet formula injection (the JSON keeps the text untouched); "
                "nested values as JSON; mentions.csv leaves out the raw source payload"
            ),
            "evidence": "sha256 = SHA-256 of the sorted compact UTF-8 JSON of author, published_at (UTC), text, url",
        },
        "counts": counts,
        "files": [entry.as_json() for entry in writer.files],
    }
    manifest_entry = writer.add_json(MANIFEST, manifest)
    writer.close()
    sha256, size = _sha256_of(out)
    audit = audit_record(
        actor=by,
        action="incident.archive.exported",
        target=incident,
        after={
            "filename": filename,
            "via": via,
            "exported_at": iso(now),
            "size": size,
            "sha256": sha256,
            "manifest_sha256": manifest_entry.sha256,
            "counts": counts,
        },
    )
    return ArchiveExport(
        incident_id=incident.pk,
        filename=filename,
        size=size,
        sha256=sha256,
        manifest_sha256=manifest_entry.sha256,
        counts=counts,
        exported_at=now,
        audit_id=audit.pk,
    )
