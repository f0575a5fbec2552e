"""Scoring accuracy benchmark: CrisisDesk scoring next to raw vaderSentiment on the same texts.

Usage (from the project root):  .venv/bin/python bench/scoring_accuracy.py [DATA_DIR]
DATA_DIR defaults to ../shared/data (see its README). Prints, per data set and language, accuracy
and macro-F1 for 3-class sentiment (negative/neutral/positive) and language-ID accuracy per
language, then the scoring speed next to raw VADER. Missing data sets are skipped with a message.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("negative", "neutral", "positive")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
    import django

    django.setup()


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold) if gold else 0.0


def load_vader_tweets(data: Path) -> list[tuple[str, str]] | None:
    path = data / "vader_tweets" / "tweets_GroundTruth.txt"
    if not path.exists():
        return None
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        mean = float(parts[1])
        label = "negative" if mean < -0.05 * 4 else "positive" if mean > 0.05 * 4 else "neutral"
        rows.append((parts[2], label))
    return rows


def load_nusax(data: Path, language: str) -> list[tuple[str, str]] | None:
    folder = data / "nusax" / language
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        return None
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            rows.extend((r["text"], r["label"]) for r in csv.DictReader(fh))
    return rows


def load_langid(data: Path) -> dict[str, list[str]] | None:
    folder = data / "langid"
    if not folder.is_dir():
        return None
    out = {}
    for path in sorted(folder.glob("*.txt")):
        out[path.stem] = [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]
    return out or None


def line(name: str, n: int, gold: list[str], ours: list[str], vader: list[str]) -> None:
    print(
        f"{name:<24} n={n:<5} ours: acc={accuracy(gold, ours):.3f} macroF1={macro_f1(gold, ours):.3f}   "
        f"raw VADER: acc={accuracy(gold, vader):.3f} macroF1={macro_f1(gold, vader):.3f}"
    )


def sentiment_sets(data: Path) -> list[tuple[str, list[tuple[str, str]], str | None]]:
    sets: list[tuple[str, list[tuple[str, str]], str | None]] = []
    tweets = load_vader_tweets(data)
    if tweets is None:
        print("skip: vader_tweets (no vader_tweets/tweets_GroundTruth.txt)")
    else:
        sets.append(("en vader_tweets", tweets, None))
    for language, code in (("english", "en"), ("indonesian", "id")):
        rows = load_nusax(data, language)
        if rows is None:
            print(f"skip: nusax/{language} (no CSV files)")
        else:
            sets.append((f"{code} nusax", rows, None))
    return sets


def timed(fn: Callable[[list[str]], list[str]], texts: list[str]) -> tuple[list[str], float]:
    start = time.perf_counter()
    out = fn(texts)
    return out, len(texts) / max(time.perf_counter() - start, 1e-9)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args(argv)
    data = Path(args.data_dir)
    if not data.is_dir():
        print(f"skip: benchmark data not found at {data} (see ../shared/data/README.md)")
        return 0
    setup_django()
    from monitoring.scoring import label_for, score_many
    from monitoring.scoring.english import vader
    from monitoring.scoring.language import detect_language, language_group

    analyzer = vader()

    def ours(texts: list[str]) -> list[str]:
        return [s.label for s in score_many(texts)]

    def raw_vader(texts: list[str]) -> list[str]:
        return [label_for(analyzer.polarity_scores(t)["compound"]) for t in texts]

    print("== sentiment (3 classes; language detected, not given) ==")
    all_texts: list[str] = []
    for name, rows, _ in sentiment_sets(data):
        texts = [t for t, _ in rows]
        gold = [g for _, g in rows]
        mine, _ = timed(ours, texts)
        theirs, _ = timed(raw_vader, texts)
        line(name, len(rows), gold, mine, theirs)
        all_texts.extend(texts)

    print("== language routing (ms and id count as one group, stored as 'id') ==")
    sentences = load_langid(data)
    if sentences is None:
        print("skip: langid (no langid/*.txt)")
    else:
        for lang, items in sentences.items():
            detected = [detect_language(s) for s in items]
            ok = sum(1 for d in detected if language_group(d) == language_group(lang))
            print(f"langid {lang:<4} n={len(items):<5} accuracy={ok / len(items):.3f}")
            all_texts.extend(items)
        core = [(lang, s) for lang, items in sentences.items() if lang in ("tr", "pl", "en") for s in items]
        if core:
            ok = sum(1 for lang, s in core if detect_language(s) == lang)
            print(f"langid tr+pl+en n={len(core):<5} accuracy={ok / len(core):.3f}")

    if all_texts:
        print("== speed (all texts above, one process) ==")
        raw_vader(all_texts[:200])
        ours(all_texts[:200])  # warm caches and lazy loads before timing
        _, vader_rate = timed(raw_vader, all_texts)
        _, our_rate = timed(ours, all_texts)
        print(
            f"texts={len(all_texts)} ours_per_s={our_rate:.0f} vader_per_s={vader_rate:.0f} "
            f"ratio={our_rate / vader_rate:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
