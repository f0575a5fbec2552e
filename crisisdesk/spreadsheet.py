"""Cells for CSV files people open in a spreadsheet: the incident archive and the mention explorer's export.

**UTF-8 with a BOM** (``CSV_ENCODING``) so Excel opens Turkish and Polish text correctly instead of
guessing a legacy code page (LibreOffice, pandas and Python's ``utf-8-sig`` read the BOM too). A text
cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``: a
stranger's post must never run as a formula on the reader's machine (OWASP "CSV injection").
Times are ISO 8601 in UTC, nested values compact JSON in one cell.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# Spreadsheet formula triggers: a text cell starting with one is neutralised.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_ENCODING = "utf-8-sig"  # UTF-8 with a BOM
BOM = "\ufeff"


def iso(value: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC (naive ones are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def json_default(value: Any) -> Any:
    """``json.dumps``' fallback: datetimes as ISO UTC strings, dates ISO, decimals as strings."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Compact (or indented) UTF-8 JSON with ``json_default`` for times and decimals."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(
        value,
        ensure_ascii=False,
        indent=indent,
        separators=separators,
        sort_keys=sort_keys,
        default=json_default,
    )


def formula_guard(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any) -> str | int | float:
    """One CSV cell: numbers as numbers, nested values as compact JSON, text neutralised (see module)."""
    if isinstance(value, str):  # the common case first: this runs for every cell of every mention
        return formula_guard(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict | list | tuple):
        return formula_guard(dumps(value, sort_keys=True))
    return formula_guard(str(value))
