"""``manage.py export_incident ID PATH [--by USERNAME]``: write an incident's archive zip (legal holds).

The same service as the incident page's download (``incidents.archive.services``), so the same
files, manifest and audit row. PATH is a file or a folder (then the archive's own name is used);
an existing file is never overwritten. The zip is written beside its target and linked into place
when complete, so PATH never holds half an archive. Note: the audit row is written even when the
file then cannot be placed (the data did leave the database into the folder's temporary file).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from incidents.archive.services import archive_filename, incident_archive_export
from incidents.models import Incident


class Command(BaseCommand):
    help = (
        "Export an incident's archive (zip with CSV, JSON and a SHA-256 manifest) for audits and legal holds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("incident_id", type=int, help="Id of the incident.")
        parser.add_argument("path", help="Where to write the zip: a new file, or an existing folder.")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="The team member asking (needs the export permission; recorded in the audit trail). "
            "Without it the export is recorded as made by the system.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        incident = Incident.objects.filter(pk=options["incident_id"]).first()
        if incident is None:
            raise CommandError(f"No incident #{options['incident_id']}.")
        by = None
        if options["by"]:
            by = User.objects.filter(username=options["by"], is_active=True).first()
            if by is None:
                raise CommandError(f"No active team member {options['by']!r}.")
        target = Path(options["path"])
        if target.is_dir():
            target = target / archive_filename(incident.pk, timezone.now())
        if target.exists():
            raise CommandError(f"{target} exists; the command never overwrites an archive.")
        if not target.parent.is_dir():
            raise CommandError(f"No such folder: {target.parent}")
        handle, partial = tempfile.mkstemp(prefix=".export-", suffix=".zip.part", dir=target.parent)
        try:
            with os.fdopen(handle, "w+b") as out:
                export = incident_archive_export(incident=incident, by=by, out=out, via="command")
            _place(Path(partial), target)
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        finally:
            Path(partial).unlink(missing_ok=True)
        counts = ", ".join(f"{name} {count}" for name, count in export.counts.items())
        self.stdout.write(
            f"Wrote {target} ({export.size} bytes, SHA-256 {export.sha256}) for incident #{incident.pk}: {counts}."
        )


def _place(partial: Path, target: Path) -> None:
    """Move the finished zip to ``target`` without ever replacing a file there."""
    try:
        # A hard link, not a rename: it fails instead of replacing a file that appeared meanwhile.
        os.link(partial, target)
    except FileExistsError as error:
        raise CommandError(f"{target} appeared while exporting; nothing was overwritten.") from error
    except OSError:
        # No hard links on this filesystem (FAT, some network shares): rename after one more check.
        if target.exists():
            raise CommandError(f"{target} appeared while exporting; nothing was overwritten.") from None
        os.replace(partial, target)
