"""The accuracy benchmark's metrics and the hand-written Turkish, Polish and Malay sets it reads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from monitoring.scoring import language_group, score_many

BENCH = Path(__file__).resolve().parents[3] / "bench" / "scoring_accuracy.py"


@pytest.fixture(scope="module")
def bench():
    # bench/ is a folder of scripts, not a package: loaded from its file.
    spec = importlib.util.spec_from_file_location("scoring_accuracy", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_metrics_on_a_small_example(bench):
    gold = ["negative", "negative", "neutral", "positive"]
    pred = ["negative", "neutral", "neutral", "positive"]
    assert bench.accuracy(gold, pred) == 0.75
    assert bench.negative_recall(gold, pred) == 0.5
    # F1: negative 2/3, neutral 2/3, positive 1.
    assert bench.macro_f1(gold, pred) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert bench.majority(gold) == ["negative"] * 4
    assert bench.majority(["neutral", "positive"]) == ["neutral", "neutral"]  # ties: LABELS order


def test_a_bad_hand_set_line_is_refused(bench, tmp_path):
    path = tmp_path / "xx_dev.tsv"
    path.write_text("# comment\nnegative\tbad\nangry\tnot a label\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad line"):
        bench.load_hand_set(path)


@pytest.mark.parametrize(("prefix", "group"), [("tr", "tr"), ("pl", "pl"), ("ms", "id")])
@pytest.mark.parametrize("part", ["dev", "check"])
def test_the_hand_sets_parse_and_are_routed_to_their_language(bench, prefix, group, part):
    rows = bench.load_hand_set(bench.HAND_SETS / f"{prefix}_{part}.tsv")
    assert len(rows) >= 40
    assert {label for _, label in rows} == set(bench.LABELS)
    scores = score_many([text for text, _ in rows])
    routed = sum(1 for s in scores if language_group(s.language) == group) / len(rows)
    assert routed >= 0.98


def test_the_bench_runs_without_its_data(bench, tmp_path, capsys):
    assert bench.main([str(tmp_path / "missing")]) == 0
    assert "benchmark data not found" in capsys.readouterr().out
