"""Exports as the commercial tools write them (tests/fixtures/recorded/imports/), read through the
one column table that the import page lists."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.intake.imports import services
from monitoring.intake.imports.formats import FORMATS, GENERIC, header_key, map_columns
from monitoring.intake.imports.importer import csv_layout, detect_encoding, import_file
from monitoring.models import Mention
from tests.factories import SourceFactory, WatchFactory

RECORDED = Path(__file__).resolve().parents[3] / "fixtures" / "recorded" / "imports"


@pytest.fixture
def source(db):
    return SourceFactory(kind="import", name="Exports", watch=WatchFactory(name="Acme Air"))


def recorded(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (RECORDED / name).read_bytes())


def import_recorded(source, name: str):
    return import_file(source=source, fileobj=recorded(name), filename=name)


def mention(external_id: str) -> Mention:
    return Mention.objects.get(external_id=external_id)


def test_a_brandwatch_bulk_mentions_download_is_read_below_its_report_block(source):
    result = import_recorded(source, "brandwatch_bulk_mentions.csv")

    assert result.format_name == "Brandwatch"
    assert (result.rows, result.created, result.error_count) == (5, 4, 1)
    # Rows as the spreadsheet numbers them: 7 report lines, a blank one, the columns on row 9; the
    # forum post's text spans two lines and is still one row (13).
    assert [(error.row, error.field) for error in result.errors] == [(14, "published_at")]
    jen = mention("1864720000000000001")
    assert (jen.author, jen.author_reach, jen.engagement, jen.language) == ("jen_travels", 12480, 37, "en")
    assert jen.published_at == datetime(2026, 11, 16, 9, 30, 12, tzinfo=UTC)
    news = mention("bw-news-77120419")
    assert news.text.startswith(
        "Acme Air grounds part of its fleet after a software fault\nAcme Air grounded"
    )
    assert (news.author, news.author_reach) == ("", 152000)  # no follower count: the reach estimate
    assert mention("1864720000000000042").author_reach == 2100
    assert mention("bw-forum-4471-1").text.endswith("Nikt nie odbiera telefonu, nikt nie odpisuje.")


def test_brandwatch_prefers_its_engagement_score_and_falls_back_to_likes(source):
    csv_text = (
        '"Report:","Bulk Mentions Download"\n\n'
        "Date,Full Text,Author,X Followers,Engagement Score,Likes,Resource Id\n"
        "2026-11-16 09:30:00.0,Acme Air lost my bag,jen,10,37,21,r1\n"
        "2026-11-16 09:31:00.0,Acme Air again,ayse,20,,8,r2\n"
    )
    result = import_file(
        source=source, fileobj=SimpleUploadedFile("bw.csv", csv_text.encode()), filename="bw.csv"
    )

    assert result.created == 2
    assert (mention("r1").engagement, mention("r2").engagement) == (37, 8)


def test_a_meltwater_utf16_tab_separated_export_maps_its_columns(source):
    assert (RECORDED / "meltwater_export.csv").read_bytes()[:2] == b"\xff\xfe"  # UTF-16 LE with a BOM

    result = import_recorded(source, "meltwater_export.csv")

    assert result.format_name == "Meltwater"
    assert (result.rows, result.created, result.error_count) == (4, 4, 0)
    news = Mention.objects.get(url="https://news.example.com/acme-air-delays")
    assert news.text == (
        "Acme Air delays leave hundreds stranded\n"
        "Hundreds of passengers were stranded at Example Airport on Monday after a string of cancellations.\n"
        'A spokesperson said Acme Air was "working to rebook every passenger".'
    )
    assert (news.author, news.author_reach, news.language) == ("Jane Reporter", 250000, "en")
    assert news.published_at == datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    tweet = mention("1864720000000000099")
    assert (tweet.author, tweet.text) == ("@budi_s", "@AcmeAir where is my refund? 14 days and nothing")
    siti = mention("1864720000000000123")
    assert (siti.author_reach, siti.language) == (2500, "id")
    radio = Mention.objects.get(url="https://radio.example.com/acme-air-apologises")
    assert radio.text == "Acme Air apologises for weekend chaos"  # headline = hit sentence: once


def test_a_talkwalker_stream_export_imports_its_documents_and_skips_control_chunks(source):
    result = import_recorded(source, "talkwalker_stream.jsonl")

    assert result.format_name == "Talkwalker"
    assert (result.rows, result.created, result.error_count) == (3, 3, 0)
    jen = mention("https://twitter.com/jen_travels/status/1864720000000000001")
    assert (jen.author, jen.author_reach, jen.engagement) == ("jen_travels", 12480, 37)
    assert jen.published_at == datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    news = mention("https://news.example.com/2026/11/16/acme-air-grounds-fleet")
    assert news.author == "Sam Editor"  # extra_author_attributes.name
    assert news.url == "https://news.example.com/2026/11/16/acme-air-grounds-fleet"
    forum = mention("https://forum.example.pl/t/acme-air-nie-odpowiada/4471")
    assert forum.text == "Acme Air nie odpowiada\nOd tygodnia piszę do Acme Air. Nikt nie odbiera telefonu."
    assert forum.language == "pl"


def test_talkwalker_documents_and_the_stream_of_the_same_documents_store_each_once(source):
    first = import_recorded(source, "talkwalker_documents.json")
    assert (first.format_name, first.created, first.error_count) == ("Talkwalker", 2, 0)

    second = import_recorded(source, "talkwalker_stream.jsonl")

    assert (second.created, second.duplicates) == (1, 2)
    assert Mention.objects.count() == 3


def test_a_talkwalker_error_chunk_is_reported_and_control_chunks_are_not_rows(source):
    lines = [
        {"chunk_type": "CT_CONTROL", "chunk_control": {"connection_id": "c-1"}},
        {
            "chunk_type": "CT_RESULT",
            "chunk_result": {
                "data": {
                    "data": {
                        "url": "https://x.example/1",
                        "published": 1794821400000,
                        "content": "Acme Air again",
                        "extra_author_attributes": {"name": "Jen"},
                    }
                }
            },
        },
        {"chunk_type": "CT_ERROR", "chunk_error": {"message": "stream quota exceeded"}},
    ]
    body = "\n".join(json.dumps(line) for line in lines)

    result = import_file(
        source=source, fileobj=SimpleUploadedFile("tw.jsonl", body.encode()), filename="tw.jsonl"
    )

    assert (result.rows, result.created, result.error_count) == (2, 1, 1)
    assert result.errors[0].row == 3 and "stream quota exceeded" in result.errors[0].message


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Date,Text\n".encode("utf-16-le"), "utf-16-le"),
        ("Date,Text\n".encode("utf-16-be"), "utf-16-be"),
        (b"\xff\xfe" + "Date".encode("utf-16-le"), "utf-16"),
        (b"\xef\xbb\xbfDate,Text", "utf-8-sig"),
        ("Date,Text,Zażółć".encode(), "utf-8"),
        ("Date,Text,Café Ürün".encode("cp1252"), "cp1252"),
        ("Date,Text,Zażółć".encode()[:-1], "utf-8"),  # cut inside a character: still UTF-8
    ],
)
def test_the_encoding_is_detected(data, encoding):
    assert detect_encoding(data) == encoding


def test_a_windows_1252_export_keeps_its_accents(source):
    csv_text = "date;text;author\n2026-11-16 09:30;Acme Air: café froid, service nul;@élodie\n"

    result = import_file(
        source=source, fileobj=SimpleUploadedFile("x.csv", csv_text.encode("cp1252")), filename="x.csv"
    )

    assert result.created == 1
    assert Mention.objects.get().text == "Acme Air: café froid, service nul"


@pytest.mark.parametrize(
    ("sample", "layout"),
    [
        ("Date\tHeadline\tHit Sentence\n16-Nov-2026 09:30AM\tA, b; c\td\n", ("\t", 0)),
        ('"Report:","Bulk Mentions Download"\n"Query:","a; b"\n\n"Date","Full Text"\n', (",", 3)),
        ("Report;Acme\ndate;text;author\n16.11.2026 10:00;Acme, again;@x\n", (";", 1)),
        ("foo,bar\n1,2\n", (",", 0)),  # no column row found: the first row, reported as such later
    ],
)
def test_the_delimiter_and_the_column_row_are_found(sample, layout):
    assert csv_layout(sample) == layout


def test_an_unknown_export_maps_by_the_generic_names():
    mapping = map_columns(["Post ID", "Created At", "Message", "Screen Name", "Followers"])

    assert mapping.export_format is GENERIC
    assert {name: [header for header, _ in headers] for name, headers in mapping.fields.items()} == {
        "external_id": ["Post ID"],
        "text": ["Message"],
        "published_at": ["Created At"],
        "author": ["Screen Name"],
        "author_reach": ["Followers"],
    }


def test_a_column_left_out_on_purpose_is_not_taken_by_a_generic_name():
    # Meltwater's "Time" (09:30 AM) is no date; the generic name "time" must not fall back to it.
    mapping = map_columns(["Date", "Hit Sentence", "Opening Text", "Time", "Sentiment"])
    assert mapping.fields["published_at"] == [("Date", False)]


def test_the_time_zone_a_brandwatch_report_block_names_is_used_for_its_dates(source):
    source.config = {"timezone": "Asia/Jakarta"}
    source.save()
    csv_text = (
        '"Report:","Bulk Mentions Download"\n"Timezone:","Europe/Istanbul"\n\n'
        '"Date","Full Text","Resource Id"\n"2026-11-16 12:00:00.0","Acme Air rezalet","r1"\n'
    )

    import_file(source=source, fileobj=SimpleUploadedFile("bw.csv", csv_text.encode()), filename="bw.csv")

    assert mention("r1").published_at == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def test_a_finished_import_says_which_format_it_read(source, manager, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    upload_id = services.import_upload_store(
        source=source,
        fileobj=recorded("meltwater_export.csv"),
        filename="meltwater_export.csv",
        by=manager,
    )
    assert services.import_upload_run(upload_id=upload_id)["state"] == "done"

    page = client_for(manager).get(reverse("monitoring:import_status", args=[upload_id])).content.decode()

    assert 'class="import-format-name">Meltwater<' in page


def test_the_import_page_lists_every_column_of_every_format(client_for, manager):
    page = client_for(manager).get(reverse("monitoring:import_upload")).content.decode()

    for export_format in FORMATS:
        assert f'id="format-{export_format.key}"' in page
        for column in export_format.columns:
            assert html.escape(column.header) in page, column.header
    assert "X Followers" in page and "extra_author_attributes.name" in page and "Hit Sentence" in page


def test_header_keys_ignore_case_spaces_and_punctuation():
    assert header_key("X Followers") == header_key("x_followers") == header_key("XFollowers")
    assert header_key("extra_author_attributes.name") == "extraauthorattributesname"
