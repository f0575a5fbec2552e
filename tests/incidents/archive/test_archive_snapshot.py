"""On PostgreSQL the archive reads every section from one snapshot, while mentions keep arriving."""

from __future__ import annotations

import io
import threading

import pytest
from django.conf import settings
from django.db import connection

from incidents.archive import selectors
from incidents.archive.services import incident_archive_export
from monitoring.models import Mention
from tests.incidents.archive.helpers import incident_with_everything

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (a second connection commits mid-export)"),
    pytest.mark.django_db(transaction=True),
]


def test_a_mention_committed_mid_export_is_not_half_in_the_archive(responder, manager, monkeypatch):
    archived = incident_with_everything(responder=responder, manager=manager)
    before = len(archived.mentions)
    read_timeline = selectors.timeline_rows

    def timeline_then_a_new_mention(incident):
        rows = list(read_timeline(incident))  # the export's snapshot is taken by now

        def ingest() -> None:
            try:
                Mention.objects.create(
                    source=archived.mentions[0].source,
                    watch=incident.watch,
                    incident=incident,
                    external_id="arrived-mid-export",
                    text="Yeni şikâyet",
                    published_at=archived.mentions[0].published_at,
                )
            finally:
                connection.close()

        thread = threading.Thread(target=ingest)
        thread.start()
        thread.join()
        return iter(rows)

    monkeypatch.setattr(selectors, "timeline_rows", timeline_then_a_new_mention)
    result = incident_archive_export(incident=archived.incident, by=manager, out=io.BytesIO())

    assert Mention.objects.filter(incident=archived.incident).count() == before + 1  # it was committed…
    assert result.counts["mentions"] == before  # …after the archive's snapshot: next export has it
