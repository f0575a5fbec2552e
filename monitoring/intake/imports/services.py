"""Import uploads: a CSV/JSON export stored, then imported by the worker with progress a page can poll.

An upload is a file under MEDIA_ROOT/imports/<id>.data plus a status file <id>.json beside it,
written atomically (temp file + rename). Web and worker share MEDIA_ROOT anyway (the worker must
read the upload), so the status needs no table and no shared cache. The worker writes progress;
the page polls it. Re-running an import is harmless: ingest dedupes on (source, external_id).

An import never hangs: a run that raises ends ``failed`` with the reason and a Retry (a member's
``import_upload_retry``); one whose message was lost or whose worker died is re-sent by the beat
sweeper (``import_uploads_sweep``), which gives up with a ``failed`` status after
``IMPORT_MAX_ATTEMPTS`` sends.

A member's writes (storing an upload, re-queueing one) are authorized here like every setup write;
the run itself is the worker's.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from crisisdesk.audit.services import audit_record
from crisisdesk.types import Member
from monitoring import nudges
from monitoring.errors import MonitoringRefusal
from monitoring.intake.imports.importer import file_kind, import_file
from monitoring.models import Source, SourceKind, Watch
from monitoring.setup.services import authorize, source_create

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
# A running import writes its status after every chunk of rows (seconds apart), so a "running" status
# this old belongs to a worker that died; the sweeper then sends the upload again.
UPLOAD_STALE = timedelta(minutes=5)
UPLOAD_ERRORS_SHOWN = 200

logger = logging.getLogger(__name__)


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
            "attempts": 1,  # times sent to a worker (the sweeper gives up at IMPORT_MAX_ATTEMPTS)
            "runs": 0,  # runs started (each claims its number; see _claim_run)
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


# A stuck import is re-sent this many times in all (counting its first send) before the sweeper
# gives up and shows it as failed: a file that kills its worker every time must not loop forever.
IMPORT_MAX_ATTEMPTS = 3


class _Superseded(Exception):
    """This run was declared dead and a newer run of the same upload claimed it: stop quietly."""


def _claim_run(upload_id: str, run: int) -> bool:
    """Claim run number ``run`` of an upload: exactly one caller wins (an exclusive file create).

    The run number is a fencing token: two workers handed the same stalled upload race for the same
    number, and a run that finds a newer number in the status has been superseded and stops.
    """
    data_path, _ = _upload_paths(upload_id)
    try:
        os.close(os.open(data_path.with_suffix(f".run{run}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _forget_runs(upload_id: str) -> None:
    for marker in uploads_dir().glob(f"{upload_id}.run*"):
        marker.unlink(missing_ok=True)


def import_upload_run(*, upload_id: str) -> dict[str, Any] | None:
    """Run a stored upload's import, writing progress as it goes; returns the final status.

    Idempotent: a finished or failed upload is left alone, one another worker is running (and not
    stalled) too, and a re-run stores nothing twice (ingest dedupes on (source, external_id), and rows
    without an id get a digest of their content as one). Whatever the import raises ends as a
    ``failed`` status naming the reason, never a status that says "Importing…" forever — except a
    passing database fault, which puts the upload back in the queue for the task's own retry.
    """
    status = import_status_read(upload_id)
    if status is None or status["state"] in ("done", "failed"):
        return status
    if status["state"] == "running" and not import_upload_stalled(status):
        return status  # another worker is on it
    run = int(status.get("runs", 0)) + 1
    if not _claim_run(upload_id, run):
        return import_status_read(upload_id)  # a second message for the same upload won the race
    data_path, _ = _upload_paths(upload_id)
    source = Source.objects.select_related("watch").filter(pk=status["source_id"]).first()
    by = get_user_model().objects.filter(pk=status["by_id"]).first() if status.get("by_id") else None
    status = {**status, "state": "running", "runs": run, "done": 0, "message": ""}
    import_status_write(upload_id, status)

    def superseded() -> bool:
        current = import_status_read(upload_id)
        return current is None or int(current.get("runs", 0)) != run

    def progress(done: int, total: int | None) -> None:
        if superseded():
            raise _Superseded
        status.update(done=done, total=total)
        import_status_write(upload_id, status)

    try:
        if source is None:
            raise ValidationError({"source": gettext("The import source was deleted.")})
        with data_path.open("rb") as handle:
            result = import_file(
                source=source, fileobj=handle, filename=status["filename"], on_progress=progress, by=by
            )
    except _Superseded:
        return import_status_read(upload_id)
    except ValidationError as error:
        # The file itself is unreadable (no text column, a source deleted): retrying cannot help.
        status.update(state="failed", retryable=False, message="; ".join(error.messages))
    except FileNotFoundError:
        status.update(
            state="failed", retryable=False, message=gettext("The uploaded file is gone; upload it again.")
        )
    except (OperationalError, InterfaceError):
        # The database blinked: back to the queue, and the task's PIPELINE policy retries it (the
        # sweeper re-sends it if those retries run out). The rows stored so far stay stored.
        status.update(state="queued")
        import_status_write(upload_id, status)
        raise
    except Exception as error:  # any bug or bad byte: the page must say the import failed, and why
        logger.exception("import %s failed after %s rows", upload_id, status.get("done", 0))
        status.update(
            state="failed",
            retryable=True,
            message=gettext("The import stopped after %(done)s rows: %(reason)s")
            % {"done": status.get("done", 0), "reason": f"{type(error).__name__}: {error}"[:300]},
        )
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
            format=result.format_name,
        )
    if superseded():  # a newer run owns the status now; it writes the outcome
        return import_status_read(upload_id)
    import_status_write(upload_id, status)
    if status["state"] == "done" or not status.get("retryable", True):
        # The summary stays; the export itself is kept only while a retry may still need it.
        data_path.unlink(missing_ok=True)
        _forget_runs(upload_id)
    return status


UPLOAD_QUEUED_STALE = timedelta(minutes=2)  # the worker normally picks an upload up within seconds


def import_upload_stalled(status: dict[str, Any], *, now: datetime | None = None) -> bool:
    """Whether an upload looks abandoned (its message lost, or its worker killed) and may be re-queued."""
    now = now or timezone.now()
    updated = datetime.fromisoformat(status.get("updated_at") or status["created_at"])
    if status["state"] == "queued":
        return now - updated >= UPLOAD_QUEUED_STALE
    return status["state"] == "running" and now - updated >= UPLOAD_STALE


def import_upload_retryable(status: dict[str, Any]) -> bool:
    """Whether a member may start the upload again: it stalled, or it failed for a reason a second run
    may not meet (a crash, a killed worker), and its file is still there."""
    if status["state"] == "failed":
        if not status.get("retryable"):
            return False
        data_path, _ = _upload_paths(status["id"])
        return data_path.exists()
    return import_upload_stalled(status)


def import_upload_retry(*, upload_id: str, by: Member) -> None:
    """Queue a stalled or crashed upload again, audited, with a fresh attempt count.

    Refused (``MonitoringRefusal``) when there is nothing to retry: an upload that is queued or
    running normally (so a double click queues it once), done, failed for good, or not there. A
    retry never duplicates a mention: the re-run skips every row the crashed run stored.
    """
    authorize(by)
    with transaction.atomic():
        status = import_status_read(upload_id)
        if status is None or not import_upload_retryable(status):
            raise MonitoringRefusal(
                gettext("This import is not stalled or failed; there is nothing to retry."),
                code="import_not_stalled",
            )
        source = Source.objects.filter(pk=status["source_id"]).first()
        if source is not None:
            audit_record(
                actor=by,
                action="source.import_retried",
                target=source,
                before={"state": status["state"], "message": status.get("message", "")},
                after={"upload": upload_id},
            )
        import_status_write(upload_id, {**status, "state": "queued", "attempts": 1, "message": ""})
        nudges.import_upload(upload_id)


@dataclass(frozen=True)
class ImportSweep:
    requeued: list[str]
    failed: list[str]


def import_uploads_sweep(*, now: datetime | None = None) -> ImportSweep:
    """Re-send every stalled upload (queued with its message lost, or running on a worker that died);
    one re-sent ``IMPORT_MAX_ATTEMPTS`` times already is marked failed, with the reason and a retry.

    Only uploads whose file is still there can be unfinished (a finished import deletes its file), so
    the scan reads the status beside each ``.data`` file, not every summary ever written.
    """
    now = now or timezone.now()
    sweep = ImportSweep(requeued=[], failed=[])
    base = Path(settings.MEDIA_ROOT) / "imports"
    if not base.is_dir():  # nothing was ever uploaded here; a sweep creates no folders
        return sweep
    for data_path in sorted(base.glob("*.data")):
        upload_id = data_path.stem
        status = import_status_read(upload_id)
        if status is None or not import_upload_stalled(status, now=now):
            continue
        attempts = int(status.get("attempts", 1))
        if attempts >= IMPORT_MAX_ATTEMPTS:
            reason = gettext(
                "The import was sent to a worker %(attempts)s times and never finished (the worker "
                "stopped or the message was lost). Check the ingest worker, then retry."
            ) % {"attempts": attempts}
            with transaction.atomic():
                source = Source.objects.filter(pk=status["source_id"]).first()
                if source is not None:
                    audit_record(
                        actor=None,
                        action="source.import_failed",
                        target=source,
                        after={"upload": upload_id, "attempts": attempts},
                    )
                import_status_write(
                    upload_id, {**status, "state": "failed", "retryable": True, "message": reason}
                )
            sweep.failed.append(upload_id)
            continue
        # Back to "queued", so the next run may claim it (a dead run stays "running" for ever); writing
        # the status restarts its clock, so the next sweep waits a full timeout before re-sending.
        import_status_write(upload_id, {**status, "state": "queued", "attempts": attempts + 1})
        nudges.import_upload(upload_id)
        sweep.requeued.append(upload_id)
    return sweep


def import_source_for(*, watch: Watch, by: Member) -> Source:
    """The watch's import source, created on first use (named "CSV / JSON import")."""
    authorize(by)
    source = Source.objects.filter(watch=watch, kind=SourceKind.IMPORT).order_by("id").first()
    if source is not None:
        return source
    return source_create(
        watch=watch, by=by, kind=SourceKind.IMPORT, name="CSV / JSON import", config={}, poll_interval=300
    )
