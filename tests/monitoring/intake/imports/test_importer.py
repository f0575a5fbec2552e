"""CSV / JSON import of exports from listening tools, with row-level errors."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from crisisdesk.models import AuditRecord
from monitoring.intake.imports.importer import import_file, parse_count
from monitoring.models import Mention, SourceHealth
from tests.factories import SourceFactory, WatchFactory

BRANDWATCH_CSV = """\
Resource Id,Date,Author,Full Text,Url,Twitter Followers,Language
tw-1,2026-11-16 09:30:00.0,@jen_travels,"Acme Air lost my bag, again 😡",https://social.example.com/@jen/1,"1,234",en
tw-2,2026-11-16 09:31:00.0,@ayse,Acme Air rezalet! Param iade edilmedi,https://social.example.com/@ayse/2,1.2K,tr
tw-3,not a date,@kasia,Acme Air nie odpowiada,https://social.example.com/@kasia/3,10,pl
tw-4,2026-11-16 09:33:00.0,@putri,,https://social.example.com/@putri/4,5,id
tw-5,2026-11-16 09:34:00.0,@budi,"Multi-line
complaint about Acme Air",javascript:alert(1),lots,id
"""


@pytest.fixture
def source(db):
    return SourceFactory(kind="import", name="Exports", watch=WatchFactory(name="Acme Air"))


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def test_a_csv_export_is_imported_and_bad_rows_are_reported(source):
    result = import_file(
        source=source, fileobj=upload("brandwatch.csv", BRANDWATCH_CSV), filename="brandwatch.csv"
    )

    assert (result.rows, result.created, result.error_count) == (5, 2, 3)
    assert [(e.row, e.field) for e in result.errors] == [
        (4, "published_at"),
        (5, "text"),
        (6, "author_reach"),
    ]
    assert "not a date" in result.errors[0].message
    jen = Mention.objects.get(external_id="tw-1")
    assert (jen.author, jen.author_reach, jen.language) == ("@jen_travels", 1234, "en")
    assert jen.published_at == datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    assert Mention.objects.get(external_id="tw-2").author_reach == 1200
    audit = AuditRecord.objects.get(action="source.import")
    assert audit.after["created"] == 2 and audit.after["errors"] == 3
    source.refresh_from_db()
    assert source.health == SourceHealth.OK


def test_importing_the_same_file_twice_stores_nothing_twice(source):
    import_file(source=source, fileobj=upload("a.csv", BRANDWATCH_CSV), filename="a.csv")

    again = import_file(source=source, fileobj=upload("a.csv", BRANDWATCH_CSV), filename="a.csv")

    assert (again.created, again.duplicates) == (0, 2)
    assert Mention.objects.count() == 2


def test_semicolons_utf16_and_missing_ids_are_understood(source):
    with pytest.raises(ValidationError, match="No text column"):
        import_file(source=source, fileobj=upload("x.csv", "Foo;Bar\n1;2\n"), filename="x.csv")

    csv_text = (
        "created_at;message;username;followers;lang;link\n"
        "16.11.2026 10:00;Penerbangan Acme Air ditunda lagi;@siti;2.500;ms;https://x.example/1\n"
        "16.11.2026 10:05;Zażółć gęślą jaźń — Acme Air;@piotr;;pl;\n"
    )
    data = codecs_utf16(csv_text)

    result = import_file(source=source, fileobj=upload("meltwater.csv", data), filename="meltwater.csv")

    assert (result.created, result.error_count) == (2, 0)
    siti = Mention.objects.get(author="@siti")
    assert (siti.author_reach, siti.language, siti.text) == (2500, "ms", "Penerbangan Acme Air ditunda lagi")
    assert siti.external_id.startswith("import:")
    assert siti.published_at == datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def codecs_utf16(text: str) -> bytes:
    return text.encode("utf-16")  # with a BOM, as Excel writes it


def test_dates_without_a_zone_use_the_source_time_zone(source):
    source.config = {"timezone": "Europe/Istanbul"}
    source.save()
    rows = [{"id": "1", "text": "Acme Air", "date": "2026-11-16 12:00:00"}]

    import_file(source=source, fileobj=upload("x.json", json.dumps(rows)), filename="x.json")

    assert Mention.objects.get().published_at == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def test_a_json_array_with_bad_records_reports_them_by_position(source):
    records = [
        {
            "id": "j1",
            "content": "Acme Air refund please",
            "published_at": "2026-11-16T09:00:00Z",
            "followers": 10,
        },
        "not an object",
        {"id": "j3", "content": "Acme Air", "published_at": 1763283600},  # epoch seconds
        {"id": "j4", "content": "Acme Air", "created_at": 1763283600000, "lang": "en"},  # epoch ms
        {"id": "j5", "content": "no date at all"},
    ]

    result = import_file(
        source=source, fileobj=upload("talkwalker.json", json.dumps(records)), filename="talkwalker.json"
    )

    assert result.created == 3
    assert [(e.row, e.field) for e in result.errors] == [(2, "record"), (5, "published_at")]
    assert Mention.objects.get(external_id="j3").published_at == datetime.fromtimestamp(1763283600, tz=UTC)
    assert Mention.objects.get(external_id="j4").published_at == datetime.fromtimestamp(1763283600, tz=UTC)


def test_json_lines_with_a_broken_line_keep_the_good_ones(source):
    lines = "\n".join(
        [
            json.dumps(
                {
                    "external_id": "l1",
                    "text": "Acme Air <script>alert(1)</script>ok",
                    "date": "2026-11-16T09:00:00Z",
                }
            ),
            '{"external_id": "l2", "text": ',
            json.dumps({"external_id": "l3", "text": "Acme Air again", "date": "2026-11-16T09:01:00+03:00"}),
        ]
    )

    result = import_file(source=source, fileobj=upload("export.jsonl", lines), filename="export.jsonl")

    assert result.created == 2
    assert [(e.row, e.field) for e in result.errors] == [(2, "json")]
    assert Mention.objects.get(external_id="l1").text == "Acme Air <script>alert(1)</script>ok"


def test_a_json_line_with_an_over_long_number_is_a_row_error(source):
    # Python refuses integers of more than 4,300 digits with a plain ValueError (no ``msg``).
    lines = "\n".join(
        [
            '{"external_id": "n1", "text": "Acme Air", "engagement": ' + "9" * 5000 + "}",
            json.dumps({"external_id": "n2", "text": "Acme Air again", "date": "2026-11-16T09:01:00Z"}),
        ]
    )

    result = import_file(source=source, fileobj=upload("export.jsonl", lines), filename="export.jsonl")

    assert result.created == 1
    assert [(e.row, e.field) for e in result.errors] == [(1, "json")]
    assert "4300 digits" in result.errors[0].message


def test_a_json_object_wrapping_its_records_is_understood(source):
    body = {"data": [{"id": "w1", "text": "Acme Air", "timestamp": "2026-11-16T09:00:00Z"}]}

    result = import_file(
        source=source, fileobj=upload("export.json", json.dumps(body)), filename="export.json"
    )

    assert result.created == 1


def test_progress_is_reported_per_chunk_with_the_total(source):
    rows = "\n".join(f"m{n},2026-11-16T09:00:00Z,Acme Air mention {n}" for n in range(2500))
    calls = []

    result = import_file(
        source=source,
        fileobj=upload("big.csv", "id,date,text\n" + rows),
        filename="big.csv",
        on_progress=lambda done, total: calls.append((done, total)),
    )

    assert result.created == 2500
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_an_unknown_file_type_is_refused(source):
    with pytest.raises(ValidationError) as raised:
        import_file(source=source, fileobj=io.BytesIO(b"x"), filename="export.xlsx")

    assert "file" in raised.value.message_dict


def test_counts_are_read_the_way_exports_write_them():
    assert [parse_count(v, "reach") for v in ["1,234", "1.2K", "3M", "", "n/a", 17, "1.234.567"]] == [
        1234,
        1200,
        3_000_000,
        0,
        0,
        17,
        1_234_567,
    ]


def test_import_mentions_prints_progress_and_a_summary(source, tmp_path):
    path = tmp_path / "brandwatch.csv"
    path.write_text(BRANDWATCH_CSV, encoding="utf-8")
    out = StringIO()

    call_command("import_mentions", "--source", str(source.pk), str(path), stdout=out)

    output = out.getvalue()
    assert "5/5 rows" in output
    assert "row 4: published_at: could not read the date 'not a date'" in output
    assert "rows=5 created=2 duplicates=0 dropped=0 errors=3 format=Brandwatch" in output


def test_import_mentions_only_imports_into_an_import_source(db, tmp_path):
    webhook = SourceFactory(kind="webhook")
    path = tmp_path / "x.csv"
    path.write_text("id,date,text\n1,2026-11-16,hi\n")

    with pytest.raises(CommandError, match="import into a CSV / JSON import source"):
        call_command("import_mentions", "--source", str(webhook.pk), str(path))
    with pytest.raises(CommandError, match="No source"):
        call_command("import_mentions", "--source", "99999", str(path))


def test_a_field_over_the_csv_modules_default_limit_does_not_stop_the_import(source):
    """One cell over 131,072 characters crashed the whole import before; every row is stored now
    (the long text capped like any source's)."""
    long_text = "Acme Air " + "x" * 140_000
    rows = "".join(
        f"tw-{n},2026-11-16 09:{30 + n}:00.0,@p{n},Acme Air delayed again #{n},https://social.example.com/{n},1,en\n"
        for n in range(1, 15)
    )
    content = (
        "Resource Id,Date,Author,Full Text,Url,Twitter Followers,Language\n"
        f'tw-long,2026-11-16 09:29:00.0,@long,"{long_text}",https://social.example.com/long,1,en\n' + rows
    )

    result = import_file(source=source, fileobj=upload("long.csv", content), filename="long.csv")

    assert (result.rows, result.created, result.error_count) == (15, 15, 0)
    assert Mention.objects.get(external_id="tw-long").text.startswith("Acme Air xxx")
