"""The upload form of the import page."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from monitoring.intake.imports.importer import IMPORT_MAX_BYTES
from monitoring.intake.imports.selectors import import_sources
from monitoring.models import Source, Watch


class ImportUploadForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=Source.objects.none(),
        required=False,
        label="Import source",
        help_text="The import source the mentions go into.",
    )
    new_for_watch = forms.ModelChoiceField(
        queryset=Watch.objects.order_by("name"),
        required=False,
        label="…or create one for watch",
        help_text="Creates a “CSV / JSON import” source on this watch (or uses its existing one).",
    )
    file = forms.FileField(help_text="A .csv, .tsv, .json, .jsonl or .ndjson export (up to 50 MB).")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``self.fields`` is typed as plain Field; "source" is the ModelChoiceField declared above.
        source_field = cast("forms.ModelChoiceField[Source]", self.fields["source"])
        source_field.queryset = import_sources()
        # A per-instance label function (Django calls ``self.label_from_instance(obj)``); the stubs
        # type the attribute as a method, which takes ``self`` first.
        source_field.label_from_instance = lambda source: f"{source.watch.name} · {source.name}"  # type: ignore[assignment]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError("The file is larger than 50 MB; split it or use manage.py import_mentions.")
        name = upload.name.lower()
        if not name.endswith((".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson")):
            raise ValidationError("Upload a .csv, .tsv, .json, .jsonl or .ndjson export.")
        return upload

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("source") and not cleaned.get("new_for_watch") and "source" not in self.errors:
            self.add_error("source", "Choose an import source or a watch to create one for.")
        return cleaned
