"""Writing the archive zip: CSV and JSON per section in one pass, each file hashed as it is written.

Formats (the manifest repeats them, so a reader years later needs nothing else):

- **JSON** (``<section>.json``): an array of objects, UTF-8, text exactly as stored (this is the
  verbatim record), times in ISO 8601 UTC (``2026-12-02T07:30:00.123456+00:00``), nested values
  (links, data, raw payloads, audit states) as JSON.
- **CSV** (``<section>.csv``): RFC 4180 (comma, ``"`` quoting, CRLF rows), **UTF-8 with a BOM** so
  Excel opens Turkish and Polish text correctly instead of guessing a legacy code page (LibreOffice,
  pandas and Python's ``utf-8-sig`` read the BOM too). Made for spreadsheets, so a text cell
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``: a
  stranger's post must never run as a formula on the auditor's machine. The JSON keeps that text
  untouched. Nested values are compact JSON in one cell; payloads marked JSON-only (a mention's
  ``raw``) stay out of the CSV.

Nothing is held whole in memory: rows stream from the database into the zip entry; the JSON copy
of a section goes to a spooled temporary file while the CSV is written (a zip has one open entry at
a time), then into its own entry. CSV and JSON of a section therefore come from the same rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from crisisdesk.spreadsheet import csv_cell, dumps

SPOOL_BYTES = 8 * 1024 * 1024  # a section's JSON copy stays in memory up to this, then goes to disk
FLUSH_ROWS = 500


@dataclass(frozen=True)
class FileEntry:
    """One file of the archive as the manifest lists it."""

    name: str
    size: int
    sha256: str
    rows: int | None = None

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "size": self.size, "sha256": self.sha256}
        if self.rows is not None:
            entry["rows"] = self.rows
        return entry


class _Digest:
    """Counts and hashes the bytes written through it into ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self.target.write(data)
            self.hash.update(data)
            self.size += len(data)


class ArchiveWriter:
    """A zip being written into ``out`` (a binary file opened for writing; it is not closed here)."""

    def __init__(self, out: IO[bytes], *, folder: str, written_at: datetime) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self.folder = folder.strip("/")
        at = written_at.astimezone(UTC)
        self.date_time = (at.year, at.month, at.day, at.hour, at.minute, at.second)
        self.files: list[FileEntry] = []

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.folder}/{name}", date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def add_bytes(self, name: str, data: bytes, *, rows: int | None = None) -> FileEntry:
        """A small file written at once (the incident record, the manifest)."""
        self.zip.writestr(self._info(name), data)
        entry = FileEntry(name, len(data), hashlib.sha256(data).hexdigest(), rows)
        self.files.append(entry)
        return entry

    def add_json(self, name: str, value: Any) -> FileEntry:
        return self.add_bytes(name, dumps(value, indent=2).encode("utf-8") + b"\n")

    def add_section(
        self, name: str, columns: list[str], rows: Iterable[dict[str, Any]], *, json_only: Iterable[str] = ()
    ) -> int:
        """``<name>.csv`` and ``<name>.json`` from one pass over ``rows``; returns the row count."""
        csv_columns = [column for column in columns if column not in set(json_only)]
        count = 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b") as spool:
            json_out = _Digest(spool)
            with self.zip.open(self._info(f"{name}.csv"), "w", force_zip64=True) as entry:
                csv_out = _Digest(entry)
                csv_out.write(codecs.BOM_UTF8)
                text = io.StringIO()
                writer = csv.writer(text, lineterminator="\r\n")
                writer.writerow(csv_columns)
                json_out.write(b"[")
                for row in rows:
                    writer.writerow([csv_cell(row[column]) for column in csv_columns])
                    item = dumps({column: row[column] for column in columns})
                    json_out.write(("\n" if count == 0 else ",\n").encode("utf-8") + item.encode("utf-8"))
                    count += 1
                    if count % FLUSH_ROWS == 0:
                        csv_out.write(_take(text))
                json_out.write(b"\n]\n" if count else b"]\n")
                csv_out.write(_take(text))
            self.files.append(FileEntry(f"{name}.csv", csv_out.size, csv_out.hash.hexdigest(), count))
            spool.seek(0)
            with self.zip.open(self._info(f"{name}.json"), "w", force_zip64=True) as entry:
                for chunk in iter(lambda: spool.read(1024 * 1024), b""):
                    entry.write(chunk)
            self.files.append(FileEntry(f"{name}.json", json_out.size, json_out.hash.hexdigest(), count))
        return count

    def close(self) -> None:
        self.zip.close()


def _take(buffer: io.StringIO) -> bytes:
    """What the CSV writer wrote since the last call, as UTF-8 (the BOM was written first)."""
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data.encode("utf-8")
