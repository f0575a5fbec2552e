"""``manage.py import_mentions --source ID PATH``: import a CSV/JSON export into an import source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.intake.imports.importer import import_file
from monitoring.models import Source, SourceKind

SHOW_ERRORS = 20


class Command(BaseCommand):
    help = "Import mentions from a CSV or JSON export (Brandwatch, Meltwater, Talkwalker, …) into a source."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", type=int, required=True, help="Id of an import source.")
        parser.add_argument("path", help="The .csv/.tsv/.json/.jsonl/.ndjson file.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Source.objects.select_related("watch").filter(pk=options["source"]).first()
        if source is None:
            raise CommandError(f"No source #{options['source']}.")
        if source.kind != SourceKind.IMPORT:
            raise CommandError(
                f"Source #{source.pk} is a {source.get_kind_display()} source; import into a CSV / JSON import source."
            )
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")

        def progress(done: int, total: int | None) -> None:
            self.stdout.write(f"  {done}/{total} rows" if total else f"  {done} rows")

        try:
            with path.open("rb") as handle:
                result = import_file(source=source, fileobj=handle, filename=path.name, on_progress=progress)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        for row_error in result.errors[:SHOW_ERRORS]:
            self.stdout.write(f"  {row_error}")
        if result.error_count > SHOW_ERRORS:
            self.stdout.write(f"  … and {result.error_count - SHOW_ERRORS} more row errors")
        self.stdout.write(
            f"Imported {path.name} into {source}: rows={result.rows} created={result.created} "
            f"duplicates={result.duplicates} dropped={result.dropped} errors={result.error_count} "
            f"format={result.format_name or 'none'}"
        )
