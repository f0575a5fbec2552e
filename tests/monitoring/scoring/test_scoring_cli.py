"""manage.py score_texts: one text per stdin line in, one JSON object per line out."""

from __future__ import annotations

import io
import json

from django.core.management import call_command


def run(stdin_text: str, *args: str) -> list[dict]:
    out = io.StringIO()
    command_stdin = io.StringIO(stdin_text)
    call_command("score_texts", *args, stdin=command_stdin, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_round_trips_one_json_object_per_line():
    lines = [
        "Bu ürünü hiç beğenmedim, rezalet!",
        "Jestem bardzo zadowolony, polecam!",
        "",
        "Makanannya enak banget 😍",
        "Flight cancelled, we are stranded. #boycott",
    ]
    rows = run("\n".join(lines) + "\n")
    assert len(rows) == len(lines)
    for row in rows:
        assert {"language", "sentiment", "label", "risk", "crisis_terms", "scenario_hint"} <= set(row)
    assert [r["language"] for r in rows] == ["tr", "pl", "und", "id", "en"]
    assert [r["label"] for r in rows] == ["negative", "positive", "neutral", "positive", "negative"]
    assert rows[4]["scenario_hint"] == "service_failure"
    assert "boycott" in rows[4]["crisis_terms"]


def test_language_option_overrides_detection():
    rows = run("bagus sekali\n", "--language", "ms")
    assert rows == [run("bagus sekali\n")[0] | {"language": "ms"}]


def test_output_keeps_non_ascii_text_readable():
    out = io.StringIO()
    call_command("score_texts", stdin=io.StringIO("Ogłaszamy bojkot, skandal!\n"), stdout=out)
    assert "bojkot" in out.getvalue()
