"""The explorer's CSV export: what it contains, the formula guard, keyset chunks, the audit row, who may."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crisisdesk.models import AuditRecord
from monitoring.explorer.search import MentionQuery
from monitoring.explorer.services import EXPORT_COLUMNS, export_rows
from tests.factories import MentionFactory, SourceFactory, WatchFactory

pytestmark = pytest.mark.django_db
URL = reverse("monitoring:mentions_export")


def _csv(response) -> tuple[str, list[list[str]]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_a_manager_exports_the_filtered_mentions_newest_first(client_for, manager):
    watch = WatchFactory(name="Acme Air")
    source = SourceFactory(watch=watch, name="Brandwatch")
    at = timezone.now()
    older = MentionFactory(source=source, text="bag lost, again", published_at=at - timedelta(hours=1))
    newer = MentionFactory(source=source, text="bag lost 😡 Żółć", published_at=at, language="pl")
    MentionFactory(text="bag lost elsewhere")  # another watch: filtered out

    response = client_for(manager).post(URL, {"q": "bag", "watch": watch.pk})

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="mentions-')
    assert response["Cache-Control"] == "no-store"
    text, rows = _csv(response)
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with a BOM
    assert rows[0] == list(EXPORT_COLUMNS)
    assert [int(row[0]) for row in rows[1:]] == [newer.pk, older.pk]
    first = dict(zip(EXPORT_COLUMNS, rows[1], strict=True))
    assert first["watch"] == "Acme Air" and first["source"] == "Brandwatch"
    assert first["text"] == "bag lost 😡 Żółć" and first["language"] == "pl"


def test_formulas_in_strangers_posts_never_run_in_a_spreadsheet(client_for, manager):
    MentionFactory(text='=HYPERLINK("http://evil.example","click")', author="@cmd|' /C calc'!A0", url="")
    MentionFactory(text="+1 great", author="-minus")
    _text, rows = _csv(client_for(manager).post(URL))
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "'@cmd|' /C calc'!A0" in cells and "'+1 great" in cells and "'-minus" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_the_export_is_audited_with_its_filter(client_for, manager):
    watch = WatchFactory()
    response = client_for(manager).post(
        URL, {"q": "delay", "watch": watch.pk, "min_risk": "0.5", "own": "no"}
    )
    b"".join(response.streaming_content)
    record = AuditRecord.objects.get(action="mentions.exported")
    assert record.actor == manager
    assert record.after["filter"] == {"q": "delay", "watch_id": watch.pk, "min_risk": 0.5, "own": False}


def test_rows_are_read_in_keyset_chunks_and_a_capped_export_says_so():
    at = timezone.now()
    made = [MentionFactory(published_at=at - timedelta(minutes=n % 3)) for n in range(7)]  # ties
    pieces = list(export_rows(MentionQuery(), chunk=2, limit=5))
    rows = list(csv.reader(io.StringIO("".join(pieces).removeprefix("\ufeff"))))
    expected = [m.pk for m in sorted(made, key=lambda m: (m.published_at, m.pk), reverse=True)][:5]
    assert [int(row[0]) for row in rows[1:6]] == expected
    assert rows[6][0].startswith("Export stopped after 5 rows")
    assert len(pieces) == 1 + 3 + 1  # header, three chunks (2 + 2 + 1), the notice


def test_an_export_that_fits_has_no_notice():
    MentionFactory()
    rows = list(csv.reader(io.StringIO("".join(export_rows(MentionQuery(), chunk=2, limit=5)))))
    assert len(rows) == 2


@pytest.mark.parametrize("persona", ["viewer", "responder"])
def test_viewers_and_responders_may_not_export(client_for, request, persona):
    response = client_for(request.getfixturevalue(persona)).post(URL)
    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action="mentions.exported").exists()


def test_an_export_is_a_post(client_for, manager):
    assert client_for(manager).get(URL).status_code == 405


def test_a_bad_filter_is_a_400_and_nothing_is_exported(client_for, manager):
    response = client_for(manager).post(URL, {"min_reach": "lots"})
    assert response.status_code == 400 and "Reach at least" in response.content.decode()
    assert not AuditRecord.objects.filter(action="mentions.exported").exists()
