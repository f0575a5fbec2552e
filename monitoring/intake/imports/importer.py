"""CSV / JSON import of exports from commercial listening tools (Brandwatch, Meltwater, Talkwalker…).

The source kind itself (its config: the export's time zone) is ``monitoring.sources.file_import``;
this module reads the files.

``import_file`` detects the file's encoding, delimiter and column row (skipping a report block
above it), maps its headers onto mention fields with the per-format column table in ``formats``
(Brandwatch, Meltwater, Talkwalker, generic), collects row-level errors (row number + field)
instead of aborting, and ingests in chunks through the same service as every
other source, so a re-import of the same file stores nothing twice.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from crisisdesk.audit.services import audit_record
from crisisdesk.types import Member
from monitoring.intake.imports.formats import ColumnMap, header_key, is_header_row, map_columns
from monitoring.intake.ingest import IngestResult, ingest_items
from monitoring.intake.polling import record_push
from monitoring.sources.base import Item

if TYPE_CHECKING:
    from monitoring.models import Source

CHUNK_ROWS = 1000
IMPORT_MAX_BYTES = 50 * 1024 * 1024  # an upload at most (the form refuses larger files)
MAX_ERRORS = 1000  # keep the report readable; the count goes on
_MAPPINGS_KEPT = 256  # JSON records with ever-different keys must not grow the cache without bound

# Meltwater (and some spreadsheets) write the language's English name instead of its code.
_LANGUAGE_NAMES = {
    "english": "en",
    "turkish": "tr",
    "polish": "pl",
    "indonesian": "id",
    "malay": "ms",
    "german": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "dutch": "nl",
    "portuguese": "pt",
    "arabic": "ar",
}
_NOT_A_NUMBER = {"", "-", "n/a", "na", "none", "null", "nan"}
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d-%b-%Y %I:%M%p",
    "%d-%b-%Y %H:%M",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
)


@dataclass(frozen=True)
class RowError:
    """``row``: the spreadsheet row for CSV (header = 1), the 1-based record for JSON."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass
class ImportResult(IngestResult):
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    format_name: str = ""  # the export format the columns were read as (see ``formats``)


class RowProblem(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_count(value: Any, field_name: str) -> int:
    """``1234``, ``1,234``, ``1.2K``, ``3M`` → int; blanks and ``n/a`` → 0."""
    if isinstance(value, bool):
        raise RowProblem(field_name, f"not a number: {value!r}")
    if isinstance(value, int | float):
        return max(0, int(value))
    text = str(value or "").strip().lower().replace(" ", "").replace("\u00a0", "")
    if text in _NOT_A_NUMBER:
        return 0
    multiplier = 1
    if text[-1:] in ("k", "m", "b"):
        multiplier = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}[text[-1]]
        text = text[:-1]
    if multiplier == 1:
        text = text.replace(",", "").replace("_", "")
        if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):  # 1.234.567 as written in tr/pl/id
            text = text.replace(".", "")
    else:
        text = text.replace(",", ".")
    try:
        return max(0, int(float(text) * multiplier))
    except ValueError:
        raise RowProblem(field_name, f"not a number: {value!r}") from None


def parse_date(value: Any, tz: ZoneInfo) -> datetime:
    """ISO 8601, epoch seconds/milliseconds, RFC 2822 or a few common export formats → aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise RowProblem("published_at", "is empty")
        number = None
        if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
            number = float(text)
    if number is not None:
        if number > 1e11:  # milliseconds
            number /= 1000
        return datetime.fromtimestamp(number, tz=UTC)
    parsed = parse_datetime(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowProblem("published_at", f"could not read the date {text[:40]!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def row_to_item(record: dict[str, Any], mapping: ColumnMap, tz: ZoneInfo) -> Item:
    """One exported record → an Item, or RowProblem naming the field."""

    def get(name: str) -> Any:
        return mapping.value(record, name)

    text = str(get("text") or "").strip()
    title = str(get("title") or "").strip()
    if title and title not in text:
        text = f"{title}\n{text}".strip()
    if not text:
        raise RowProblem("text", "is empty")
    published_at = parse_date(get("published_at"), tz)
    url = str(get("url") or "").strip()
    author = str(get("author") or "").strip()
    external_id = str(get("external_id") or "").strip()
    if not external_id:
        # No id column: a stable digest, so importing the same export twice stores nothing twice.
        basis = "\x1f".join([text, published_at.isoformat(), author, url])
        external_id = "import:" + hashlib.sha256(basis.encode()).hexdigest()[:40]
    return Item(
        external_id=external_id,
        text=text,
        published_at=published_at,
        url=url,
        author=author,
        author_reach=parse_count(get("author_reach"), "author_reach"),
        engagement=parse_count(get("engagement"), "engagement"),
        language=_language_code(get("language")),
        raw={
            "import_row": {str(k)[:60]: str(v)[:200] for k, v in list(record.items())[:40] if k is not None}
        },
    )


_SNIFF_BYTES = 65_536  # enough of the file to tell its encoding


def detect_encoding(head: bytes) -> str:
    """The encoding of a file starting with ``head``.

    A byte-order mark decides (Meltwater and Excel write UTF-16 LE with one, Excel UTF-8 with one);
    without one, UTF-16 shows as a NUL in every other byte of ASCII text; otherwise UTF-8 if the
    bytes decode as UTF-8, else Windows-1252 (what older Excel on Windows writes).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    half = len(sample) // 2
    if half >= 2:
        even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
        if odd_nuls >= half * 0.3 and even_nuls <= half * 0.05:
            return "utf-16-le"
        if even_nuls >= half * 0.3 and odd_nuls <= half * 0.05:
            return "utf-16-be"
    try:
        # Not final: the head may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _text_stream(fileobj: IO[Any]) -> io.TextIOBase:
    """A text stream from a binary or text file object, in the encoding ``detect_encoding`` finds."""
    if isinstance(fileobj, io.TextIOBase):
        return fileobj
    head = fileobj.read(_SNIFF_BYTES)
    if isinstance(head, str):
        return io.StringIO(head + fileobj.read())
    stream = io.BufferedReader(_Prepend(head, fileobj))
    return io.TextIOWrapper(stream, encoding=detect_encoding(head), errors="replace", newline="")


class _Prepend(io.RawIOBase):
    """A raw stream that yields ``head`` and then the rest of ``fileobj`` (which may not be seekable)."""

    def __init__(self, head: bytes, fileobj: IO[bytes]) -> None:
        self._head, self._file = head, fileobj

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size], self._head = self._head[:size], self._head[size:]
            return size
        chunk = self._file.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# The csv module refuses a field over 131,072 characters by default, which ended the whole import.
# An upload is at most IMPORT_MAX_BYTES, so no field can exceed that; over-long texts are then
# capped by ingest like every other source's.
csv.field_size_limit(IMPORT_MAX_BYTES)

_CSV_SAMPLE_CHARS = 16_384
_HEADER_SEARCH_ROWS = 50  # a report block above the column row (Brandwatch) is a dozen lines
_DELIMITERS = ("\t", ",", ";")


def csv_layout(sample: str) -> tuple[str, int]:
    """(delimiter, index of the column row) for a CSV starting with ``sample``.

    The column row is the first row naming a text-like and a date-like column (``is_header_row``),
    so a report block above it is skipped. Each delimiter is tried; the one whose column row has the
    most columns wins (a wrong delimiter leaves a row in one cell). Without such a row, the
    delimiter is sniffed and the first row is taken as the header.
    """
    best: tuple[int, int, str] | None = None  # (columns, -index, delimiter)
    for delimiter in _DELIMITERS:
        try:
            rows = list(
                itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), _HEADER_SEARCH_ROWS)
            )
        except csv.Error:
            continue
        for index, row in enumerate(rows):
            if len(row) > 1 and is_header_row(row):
                candidate = (len(row), -index, delimiter)
                if best is None or candidate > best:
                    best = candidate
                break
    if best is not None:
        return best[2], -best[1]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter, 0
    except csv.Error:
        return ",", 0


def _csv_records(
    stream: io.TextIOBase, preamble: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """(row number, record, headers) per data row. The report block above the column row, if any,
    lands in ``preamble`` (``header_key`` of its first cell → its second cell, e.g. ``timezone``)
    before the first record is yielded."""
    sample = stream.read(_CSV_SAMPLE_CHARS)
    delimiter, header_index = csv_layout(sample)
    reader = csv.reader(_chain(sample, stream), delimiter=delimiter)
    # Rows are counted as a spreadsheet shows them (the first line = 1), even when a cell spans lines.
    for _skipped in range(header_index):
        block_row = next(reader, None)
        if block_row is None:
            return
        if preamble is not None and len(block_row) >= 2:
            preamble.setdefault(header_key(block_row[0]), block_row[1].strip())
    headers = next(reader, None)
    if not headers:
        return
    for number, row in enumerate(reader, start=header_index + 2):
        if not any(cell.strip() for cell in row):
            continue
        yield number, dict(zip(headers, row, strict=False)), headers


def _chain(sample: str, rest: io.TextIOBase) -> Iterator[str]:
    """The sniffed sample (completed to its line end), then the rest of the stream, line by line."""
    if sample:
        yield from io.StringIO(sample + rest.readline()).readlines()
    yield from rest


_FLATTEN_DEPTH = 3  # Talkwalker nests author and source attributes one level down


def _flatten(record: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested objects become dotted keys (``extra_author_attributes.name``), so a column map can
    name them; lists and deeper objects stay values."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < _FLATTEN_DEPTH:
            flat.update(_flatten(value, f"{name}.", depth + 1))
        else:
            flat[name] = value
    return flat


# Talkwalker streaming chunks (JSON lines): CT_RESULT holds one document in chunk_result.data.data;
# CT_CONTROL (connection and resume information) is no mention at all; CT_ERROR is the stream
# reporting a fault, which the report shows.
_TALKWALKER_RESULT = "CT_RESULT"
_TALKWALKER_ERROR = "CT_ERROR"


def _documents(number: int, value: Any) -> Iterator[tuple[int, Any, list[str]]]:
    """The records one parsed JSON value holds: a record, a Talkwalker chunk's document, or nothing
    (a control chunk)."""
    if isinstance(value, dict) and "chunk_type" in value:
        chunk_type = str(value.get("chunk_type") or "")
        document = ((value.get("chunk_result") or {}).get("data") or {}).get("data")
        if isinstance(document, dict):
            yield number, _flatten(document), []
        elif chunk_type == _TALKWALKER_ERROR:
            detail = json.dumps(value.get("chunk_error") or value)[:200]
            message = gettext("the stream reported an error: %(detail)s") % {"detail": detail}
            yield number, RowProblem("chunk", message), []
        elif chunk_type == _TALKWALKER_RESULT:
            yield number, RowProblem("chunk", gettext("a result chunk without chunk_result.data.data")), []
        return  # CT_CONTROL and other chunks carry no document
    if isinstance(value, dict) and set(value) == {"data"} and isinstance(value["data"], dict):
        value = value["data"]  # one hit of a Talkwalker API answer: {"data": {document}}
    yield number, _flatten(value) if isinstance(value, dict) else value, []


def _json_records(stream: io.TextIOBase) -> Iterator[tuple[int, Any, list[str]]]:
    text = stream.read()
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except ValueError as error:
            raise RowProblem("file", f"not valid JSON: {error}") from error
        for number, record in enumerate(records, start=1):
            yield from _documents(number, record)
        return
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            document = None  # not one object: JSON lines
        if isinstance(document, dict):
            # A Talkwalker API answer keeps its hits in result_content.data.
            content = document.get("result_content")
            holder: dict[str, Any] = content if isinstance(content, dict) else document
            for key in ("mentions", "data", "results", "items", "posts"):
                if isinstance(holder.get(key), list):
                    for number, record in enumerate(holder[key], start=1):
                        yield from _documents(number, record)
                    return
            yield from _documents(1, document)
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            # Only a syntax error has ``msg``; an over-long integer is a plain ValueError.
            detail = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            yield number, RowProblem("json", f"not valid JSON: {detail}"), []
        else:
            yield from _documents(number, value)


def _count_records(fileobj: IO[Any], kind: str) -> int | None:
    """Rows in a seekable file, for the progress bar; None when the file cannot be rewound."""
    try:
        start = fileobj.tell()
    except (AttributeError, OSError, ValueError):
        return None
    try:
        records = _records(_text_stream(fileobj), kind)
        total = sum(1 for _ in records)
    except RowProblem:
        total = 0
    finally:
        fileobj.seek(start)
    return total


def _records(
    stream: io.TextIOBase, kind: str, preamble: dict[str, str] | None = None
) -> Iterator[tuple[int, Any, list[str]]]:
    return _json_records(stream) if kind == "json" else _csv_records(stream, preamble)


def file_kind(filename: str) -> str:
    """``json`` or ``csv`` by the file's name; ValidationError naming ``file`` for a type it cannot read."""
    name = filename.lower()
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    raise ValidationError({"file": "Upload a .csv, .tsv, .json, .jsonl or .ndjson export."})


def import_file(
    *,
    source: Source,
    fileobj: IO[Any],
    filename: str,
    on_progress: Callable[[int, int | None], None] | None = None,
    by: Member | None = None,
) -> ImportResult:
    """Import a CSV/JSON export into ``source``; bad rows are reported, good rows are stored.

    ``on_progress(done, total)`` is called after each chunk (``total`` is None when the file cannot
    be rewound to count it). Each chunk is its own transaction: a huge file shows progress and a
    crash halfway keeps what was stored (a re-import then skips it as duplicates).
    """
    kind = file_kind(filename)
    tz = _timezone((source.config or {}).get("timezone"))
    preamble: dict[str, str] = {}  # a report block's facts (Brandwatch names the export's time zone)
    total = _count_records(fileobj, kind)
    result = ImportResult()
    batch: list[Item] = []
    mappings: dict[tuple[Any, ...], ColumnMap] = {}

    def flush() -> None:
        if batch:
            result.add(ingest_items(source=source, items=list(batch)))
            batch.clear()
        if on_progress is not None:
            on_progress(result.rows, total)

    def error(row: int, field_name: str, message: str) -> None:
        result.error_count += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(RowError(row=row, field=field_name, message=message))

    try:
        for row, record, headers in _records(_text_stream(fileobj), kind, preamble):
            result.rows += 1
            if isinstance(record, RowProblem):
                error(row, record.field, record.message)
                continue
            if not isinstance(record, dict):
                error(row, "record", "is not an object")
                continue
            # One map per set of columns: every CSV row shares one; JSON records may differ.
            columns = tuple(headers or record)
            mapping = mappings.get(columns)
            if mapping is None:
                if len(mappings) >= _MAPPINGS_KEPT:
                    mappings.clear()
                mapping = mappings[columns] = map_columns(list(columns))
                if kind == "csv" and not mapping.has_text():
                    raise ValidationError(
                        {"file": f"No text column found (headers: {', '.join(map(str, headers))[:300]})."}
                    )
                if not result.format_name:
                    result.format_name = mapping.export_format.name
                    # Dates the export wrote without a zone are in the zone its report block names.
                    tz = _export_timezone(preamble.get("timezone"), default=tz)
            try:
                batch.append(row_to_item(record, mapping, tz))
            except RowProblem as problem:
                error(row, problem.field, problem.message)
            if len(batch) >= CHUNK_ROWS:
                flush()
    except RowProblem as problem:
        error(0, problem.field, problem.message)
    flush()
    audit_record(
        actor=by,
        action="source.import",
        target=source,
        after={
            "filename": filename[:200],
            "rows": result.rows,
            "created": result.created,
            "duplicates": result.duplicates,
            "dropped": result.dropped,
            "errors": result.error_count,
        },
    )
    if result.created:
        record_push(source=source)
    return result


def _language_code(value: Any) -> str:
    """A code as written, or the code of a language written by name (``Indonesian`` → ``id``)."""
    text = str(value or "").strip()
    return _LANGUAGE_NAMES.get(text.casefold(), text)


def _export_timezone(name: str | None, *, default: ZoneInfo) -> ZoneInfo:
    """The zone an export's report block names (``UTC``, ``Europe/London``), or ``default`` when it
    names none or one written some other way."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _timezone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name)) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
