"""Import uploads: a CSV/JSON export stored, then imported by the worker with progress a page can poll.

An upload is a file under MEDIA_ROOT/imports/<id>.data plus a status file <id>.json beside it,
written atomically (temp file + rename). Web and worker share MEDIA_ROOT anyway (the worker must
read the upload), so the status needs no table and no shared cache. The worker writes progress;
the page polls it. Re-running an import is harmless: ingest dedupes on (source, external_id).

A member's writes (storing an upload, re-queueing one) are authorized here like every setup write;
the run itself is the worker's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import audit_record
from crisisdesk.types import Member
from monitoring import nudges
from monitoring.errors import MonitoringRefusal
from monitoring.intake.imports.importer import file_kind, import_file
from monitoring.models import Source, SourceKind, Watch
from monitoring.setup.services import authorize, source_create

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_STALE = timedelta(minutes=15)  # a "running" status this old belongs to a dead worker
UPLOAD_ERRORS_SHOWN = 200


def uploads_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_paths(upload_id: str) -> tuple[Path, Path]:
    if not UPLOAD_ID.match(upload_id or ""):
        raise ValidationError({"upload": "Unknown upload."})
    base = uploads_dir()
    return base / f"{upload_id}.data", base / f"{upload_id}.json"


def import_status_write(upload_id: str, status: dict[str, Any]) -> None:
    """Replace an upload's status file atomically (readers never see half a file)."""
    _, status_path = _upload_paths(upload_id)
    status = {**status, "updated_at": timezone.now().isoformat()}
    tmp = status_path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(status), encoding="utf-8")
    os.replace(tmp, status_path)


def import_status_read(upload_id: str) -> dict[str, Any] | None:
    """An upload's status, or None when there is no such upload."""
    try:
        _, status_path = _upload_paths(upload_id)
        status: dict[str, Any] = json.loads(status_path.read_text(encoding="utf-8"))
    except (ValidationError, FileNotFoundError, json.JSONDecodeError):
        return None
    return status


def import_upload_store(*, source: Source, fileobj: IO[bytes], filename: str, by: Member) -> str:
    """Store an uploaded export under a random name and enqueue its import after commit; returns its id."""
    authorize(by)
    if source.kind != SourceKind.IMPORT:
        raise ValidationError({"source": "Choose a CSV / JSON import source."})
    file_kind(filename)  # ValidationError({"file": …}) for a type the importer cannot read
    upload_id = secrets.token_hex(16)
    data_path, _ = _upload_paths(upload_id)
    with data_path.open("wb") as out:
        for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
            out.write(chunk)
    import_status_write(
        upload_id,
        {
            "id": upload_id,
            "source_id": source.pk,
            "watch_id": source.watch_id,
            "filename": filename[:200],
            "by_id": getattr(by, "pk", None),
            "state": "queued",
            "done": 0,
            "total": None,
            "created_at": timezone.now().isoformat(),
        },
    )
    with transaction.atomic():
        audit_record(
            actor=by,
            action="source.import_uploaded",
            target=source,
            after={"upload": upload_id, "filename": filename[:200]},
        )
        nudges.import_upload(upload_id)
    return upload_id


def import_upload_run(*, upload_id: str) -> dict[str, Any] | None:
    """Run a stored upload's import, writing progress as it goes. Idempotent: a finished upload is left alone."""
    status = import_status_read(upload_id)
    if status is None or status["state"] in ("done", "failed"):
        return status
    if status["state"] == "running":
        updated = datetime.fromisoformat(status["updated_at"])
        if timezone.now() - updated < UPLOAD_STALE:
            return status  # another worker is on it
    data_path, _ = _upload_paths(upload_id)
    source = Source.objects.select_related("watch").filter(pk=status["source_id"]).first()
    by = get_user_model().objects.filter(pk=status["by_id"]).first() if status.get("by_id") else None
    status = {**status, "state": "running"}
    import_status_write(upload_id, status)

    def progress(done: int, total: int | None) -> None:
        status.update(done=done, total=total)
        import_status_write(upload_id, status)

    try:
        if source is None:
            raise ValidationError({"source": "The import source was deleted."})
        with data_path.open("rb") as handle:
            result = import_file(
                source=source, fileobj=handle, filename=status["filename"], on_progress=progress, by=by
            )
    except ValidationError as error:
        status.update(state="failed", message="; ".join(error.messages))
    except FileNotFoundError:
        status.update(state="failed", message="The uploaded file is gone; upload it again.")
    else:
        status.update(
            state="done",
            done=result.rows,
            total=result.rows,
            rows=result.rows,
            created=result.created,
            duplicates=result.duplicates,
            dropped=result.dropped,
            error_count=result.error_count,
            errors=[
                {"row": error.row, "field": error.field, "message": error.message}
                for error in result.errors[:UPLOAD_ERRORS_SHOWN]
            ],
        )
    import_status_write(upload_id, status)
    if status["state"] == "done":
        data_path.unlink(missing_ok=True)  # the summary stays; the export itself is not kept
    return status


UPLOAD_QUEUED_STALE = timedelta(minutes=2)  # the worker normally picks an upload up within seconds


def import_upload_stalled(status: dict[str, Any], *, now: datetime | None = None) -> bool:
    """Whether an upload looks abandoned (its message lost, or its worker killed) and may be re-queued."""
    now = now or timezone.now()
    updated = datetime.fromisoformat(status.get("updated_at") or status["created_at"])
    if status["state"] == "queued":
        return now - updated >= UPLOAD_QUEUED_STALE
    return status["state"] == "running" and now - updated >= UPLOAD_STALE


def import_upload_retry(*, upload_id: str, by: Member) -> None:
    """Re-enqueue a stalled upload (a broker message is at-most-once). One that is not stalled (or not
    there) is refused with ``MonitoringRefusal``."""
    authorize(by)
    status = import_status_read(upload_id)
    if status is None or not import_upload_stalled(status):
        raise MonitoringRefusal("This import is not stalled.", code="import_not_stalled")
    with transaction.atomic():
        source = Source.objects.filter(pk=status["source_id"]).first()
        if source is not None:
            audit_record(actor=by, action="source.import_retried", target=source, after={"upload": upload_id})
        nudges.import_upload(upload_id)


def import_source_for(*, watch: Watch, by: Member) -> Source:
    """The watch's import source, created on first use (named "CSV / JSON import")."""
    authorize(by)
    source = Source.objects.filter(watch=watch, kind=SourceKind.IMPORT).order_by("id").first()
    if source is not None:
        return source
    return source_create(
        watch=watch, by=by, kind=SourceKind.IMPORT, name="CSV / JSON import", config={}, poll_interval=300
    )
