"""Scoring accuracy benchmark: CrisisDesk scoring next to raw vaderSentiment and the majority class.

Usage (from the project root):  .venv/bin/python bench/scoring_accuracy.py [DATA_DIR]
DATA_DIR defaults to ../shared/data (see its README). For each labelled set, 3-class sentiment
(negative/neutral/positive) with the language detected, not given: accuracy, macro-F1 and
negative recall (the share of negative posts we call negative: the mentions a crisis team must
see) of our scoring, of raw VADER and of always answering the set's most frequent label, plus the
share of texts routed to the set's language group. Then language-ID accuracy per language and the
scoring speed next to raw VADER. Missing data sets are skipped with a message.

Sets: ``en vader_tweets`` (all 4,200; evaluation only), NusaX English and Indonesian with their
``train`` and ``valid`` splits printed apart (we learn from train only; valid is held out), and the
hand-written Turkish, Polish and Malay sets in ``tests/fixtures/scoring/`` (``dev``: tuned on;
``check``: never looked at while tuning; see the README there).
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
HAND_SETS = ROOT / "tests" / "fixtures" / "scoring"
HAND_LANGUAGES = (("tr", "tr"), ("pl", "pl"), ("ms", "id"))  # (file prefix, language group)


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


def negative_recall(gold: Sequence[str], pred: Sequence[str]) -> float:
    negatives = [p for g, p in zip(gold, pred, strict=True) if g == "negative"]
    return sum(1 for p in negatives if p == "negative") / len(negatives) if negatives else 0.0


def majority(gold: Sequence[str]) -> list[str]:
    """Always the set's most frequent label (ties: the first in LABELS)."""
    top = max(LABELS, key=lambda label: (gold.count(label), -LABELS.index(label)))
    return [top] * len(gold)


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


def load_nusax(data: Path, language: str, split: str) -> list[tuple[str, str]] | None:
    path = data / "nusax" / language / f"{split}.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["text"], r["label"]) for r in csv.DictReader(fh)]


def load_hand_set(path: Path) -> list[tuple[str, str]] | None:
    """``label<TAB>text`` lines, ``#`` comments skipped."""
    if not path.exists():
        return None
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        label, _, text = raw.partition("\t")
        if label not in LABELS or not text:
            raise ValueError(f"{path.name}: bad line {raw!r}")
        rows.append((text, label))
    return rows


def load_langid(data: Path) -> dict[str, list[str]] | None:
    folder = data / "langid"
    if not folder.is_dir():
        return None
    out = {}
    for path in sorted(folder.glob("*.txt")):
        out[path.stem] = [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]
    return out or None


def metrics(gold: Sequence[str], pred: Sequence[str]) -> str:
    return (
        f"acc={accuracy(gold, pred):.3f} F1={macro_f1(gold, pred):.3f} negR={negative_recall(gold, pred):.3f}"
    )


def line(name: str, gold: list[str], ours: list[str], vader: list[str], routed: float) -> None:
    print(
        f"{name:<20} n={len(gold):<5} route={routed:.3f} | ours {metrics(gold, ours)} | "
        f"VADER {metrics(gold, vader)} | majority({majority(gold)[0][:3]}) {metrics(gold, majority(gold))}"
    )


def sentiment_sets(data: Path) -> list[tuple[str, list[tuple[str, str]], str]]:
    """(name, [(text, label)], the language group the texts are in)."""
    sets: list[tuple[str, list[tuple[str, str]], str]] = []
    tweets = load_vader_tweets(data)
    if tweets is None:
        print("skip: vader_tweets (no vader_tweets/tweets_GroundTruth.txt)")
    else:
        sets.append(("en vader_tweets", tweets, "en"))
    for language, code in (("english", "en"), ("indonesian", "id")):
        for split in ("train", "valid"):
            rows = load_nusax(data, language, split)
            if rows is None:
                print(f"skip: nusax/{language}/{split}.csv")
            else:
                sets.append((f"{code} nusax {split}", rows, code))
    for prefix, group in HAND_LANGUAGES:
        for part in ("dev", "check"):
            rows = load_hand_set(HAND_SETS / f"{prefix}_{part}.tsv")
            if rows is None:
                print(f"skip: tests/fixtures/scoring/{prefix}_{part}.tsv")
            else:
                sets.append((f"{prefix} hand {part}", rows, group))
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
    from monitoring.scoring.duplicates import duplicate_cache
    from monitoring.scoring.english import vader
    from monitoring.scoring.language import detect_language, language_group

    analyzer = vader()

    def ours(texts: list[str]) -> list[str]:
        return [s.label for s in score_many(texts)]

    def our_scores(texts: list[str]) -> list[tuple[str, str]]:
        return [(s.label, s.language) for s in score_many(texts)]

    def raw_vader(texts: list[str]) -> list[str]:
        return [label_for(analyzer.polarity_scores(t)["compound"]) for t in texts]

    print("== sentiment (3 classes; language detected, not given; negR = negative recall) ==")
    all_texts: list[str] = []
    for name, rows, group in sentiment_sets(data):
        texts = [t for t, _ in rows]
        gold = [g for _, g in rows]
        scored = our_scores(texts)
        routed = sum(1 for _, lang in scored if language_group(lang) == group) / len(scored)
        line(name, gold, [label for label, _ in scored], raw_vader(texts), routed)
        if "hand" not in name:  # the speed figures stay comparable with earlier runs
            all_texts.extend(texts)

    print("== platform tags, wrong then right (a tag is a hint: the text may overrule it) ==")
    by_name = {name: (rows, group) for name, rows, group in sentiment_sets(data)}
    wrong_tags = [("en vader_tweets", "tr"), ("en vader_tweets", "pl"), ("en vader_tweets", "ms")]
    wrong_tags += [
        (f"{prefix} hand {part}", "en") for prefix, _ in HAND_LANGUAGES for part in ("dev", "check")
    ]
    # And the right tags, which must stand (route 1.000 unless the text overrules a correct tag).
    wrong_tags += [("en vader_tweets", "en"), ("en nusax train", "en"), ("id nusax train", "id")]
    wrong_tags += [
        (f"{prefix} hand {part}", prefix) for prefix, _ in HAND_LANGUAGES for part in ("dev", "check")
    ]
    for name, wrong in wrong_tags:
        if name not in by_name:
            continue
        rows, group = by_name[name]
        texts = [t for t, _ in rows]
        gold = [g for _, g in rows]
        scored = score_many(texts, [wrong] * len(texts))
        routed = sum(1 for s in scored if language_group(s.language) == group) / len(scored)
        print(
            f"{name + ' tagged ' + wrong:<28} n={len(rows):<5} route={routed:.3f} | "
            f"ours {metrics(gold, [s.label for s in scored])}"
        )

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
        print("== speed (all texts above, one process, duplicate cache emptied first) ==")
        raw_vader(all_texts[:200])
        ours(all_texts[:200])  # warm caches and lazy loads before timing
        # The scoring's own speed: texts scored above must not come back from the duplicate cache.
        duplicate_cache.clear()
        _, vader_rate = timed(raw_vader, all_texts)
        _, our_rate = timed(ours, all_texts)
        print(
            f"texts={len(all_texts)} ours_per_s={our_rate:.0f} ({1e6 / our_rate:.1f} µs/text) "
            f"vader_per_s={vader_rate:.0f} ({1e6 / vader_rate:.1f} µs/text) ratio={our_rate / vader_rate:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
