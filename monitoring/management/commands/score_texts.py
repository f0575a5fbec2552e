"""Score texts from stdin: one UTF-8 text per line in, one JSON object per line out.

For re-scoring exports and for benchmarks:
    .venv/bin/python manage.py score_texts < mentions.txt > scores.jsonl
    .venv/bin/python manage.py score_texts --language tr < turkish.txt
Each output line carries language, sentiment, label, risk, crisis_terms and scenario_hint, in input
order; an empty input line gives a neutral "und" score so line numbers stay aligned.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from django.core.management.base import BaseCommand, CommandParser

from monitoring.scoring import normalize_language, score_many

BATCH = 500


class Command(BaseCommand):
    help = (
        "Score one text per stdin line; write one JSON object per line (language, sentiment, label, risk, …)."
    )
    stealth_options = ("stdin",)  # call_command(..., stdin=StringIO(...)) in tests and scripts

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--language",
            default="",
            help="Language tag for every line (e.g. tr, pl, id, ms, en); default: detect per line.",
        )

    def handle(self, *args: object, **options: object) -> None:
        language = normalize_language(str(options.get("language") or "")) or None
        stdin = self._stdin(options.get("stdin"))
        out = self.stdout
        for batch in _batches(stdin):
            scores = score_many(batch, [language] * len(batch) if language else None)
            for score in scores:
                out.write(json.dumps(score.as_dict(), ensure_ascii=False))

    def _stdin(self, given: object) -> io.TextIOBase | TextIO:
        stream = given if isinstance(given, io.TextIOBase) else sys.stdin
        if isinstance(stream, io.TextIOWrapper):
            # Read UTF-8 whatever the locale says; undecodable bytes become U+FFFD, not a crash.
            stream.reconfigure(encoding="utf-8", errors="replace")
        return stream


def _batches(stream: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for raw in stream:
        batch.append(raw.rstrip("\r\n"))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
