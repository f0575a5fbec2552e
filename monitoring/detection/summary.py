"""The signal a responder reads first: top terms, top authors, sample mentions, sentiment mix."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from monitoring.detection.evaluators import Breach, Series, WindowMention
from monitoring.models import Watch

SAMPLE_MENTIONS = 5
TOP_N = 5

_WORD = re.compile(r"[#@]?\w[\w'’-]{3,}", re.UNICODE)
_STOPWORDS = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "have",
        "about",
        "your",
        "they",
        "their",
        "there",
        "were",
        "what",
        "when",
        "which",
        "would",
        "could",
        "should",
        "just",
        "been",
        "into",
        "than",
        "them",
        "then",
        "very",
        "will",
        "also",
        "more",
        "some",
        "only",
        "over",
        "after",
        "before",
        "again",
        "because",
        "http",
        "https",
        "www",
        "com",
        "dan",
        "yang",
        "untuk",
        "dengan",
        "tidak",
        "ini",
        "itu",
        "ada",
        "dari",
        "sudah",
        "bir",
        "için",
        "çok",
        "daha",
        "değil",
        "gibi",
        "ama",
        "olan",
        "nie",
        "jest",
        "się",
        "oraz",
        "przez",
        "tylko",
        "jako",
        "może",
        "dla",
    ]
)


def summary_for(
    *, mentions: list[WindowMention], series: Series, breach: Breach, watch: Watch | None
) -> dict[str, Any]:
    """Top terms, top authors, sample mentions and the sentiment mix of the breach's window."""
    watch_terms = {t.casefold() for t in (watch.include_terms if watch else []) or []}
    crisis_counts: Counter[str] = Counter()
    word_counts: Counter[str] = Counter()
    authors: dict[str, dict[str, int]] = {}
    for m in mentions:
        crisis_counts.update(str(t).casefold() for t in (m.crisis_terms or []))
        words = {w.casefold() for w in _WORD.findall(m.text or "")}
        word_counts.update(
            w for w in words if w not in _STOPWORDS and w not in watch_terms and not w.isdigit()
        )
        if m.author:
            entry = authors.setdefault(m.author, {"count": 0, "reach": 0})
            entry["count"] += 1
            entry["reach"] = max(entry["reach"], int(m.author_reach or 0))
    top_terms = [term for term, _ in crisis_counts.most_common(TOP_N)]
    for word, _ in word_counts.most_common(TOP_N * 2):
        if len(top_terms) >= TOP_N * 2 - 2:
            break
        if word not in top_terms:
            top_terms.append(word)
    top_authors = sorted(authors.items(), key=lambda kv: (-kv[1]["count"], -kv[1]["reach"], kv[0]))[:TOP_N]
    samples = sorted(mentions, key=lambda m: (-(m.risk or 0), m.sentiment or 0, -(m.author_reach or 0), m.pk))
    volume = int(series.total("volume", breach.window_start, breach.window_end))
    negative = int(series.total("negative", breach.window_start, breach.window_end))
    positive = int(series.total("positive", breach.window_start, breach.window_end))
    return {
        "top_terms": top_terms,
        "crisis_terms": dict(crisis_counts.most_common(TOP_N)),
        "top_authors": [{"author": a, "mentions": v["count"], "reach": v["reach"]} for a, v in top_authors],
        "sample_mentions": [
            {
                "id": m.pk,
                "text": (m.text or "")[:140],
                "author": m.author,
                "sentiment": m.sentiment,
                "risk": m.risk,
                "reach": m.author_reach,
            }
            for m in samples[:SAMPLE_MENTIONS]
        ],
        "sentiment_mix": {
            "negative": negative,
            "neutral": max(0, volume - negative - positive),
            "positive": positive,
        },
        "volume": volume,
        "detail": breach.detail,
    }
