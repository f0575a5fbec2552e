"""Import reads: the sources a manager may upload into, and the one an upload belongs to."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from monitoring.models import Source, SourceKind


def import_sources() -> QuerySet[Source]:
    """Import sources a manager may upload into, by watch and name."""
    return (
        Source.objects.filter(kind=SourceKind.IMPORT).select_related("watch").order_by("watch__name", "name")
    )


def upload_source(status: dict[str, Any]) -> Source | None:
    """The source an upload's status names (None once it was deleted)."""
    source_id = status.get("source_id")
    if source_id is None:  # every status names its source; a hand-edited one may not
        return None
    return Source.objects.select_related("watch").filter(pk=source_id).first()
