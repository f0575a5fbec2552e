"""Scoring: language, sentiment, risk, crisis terms and scenario hints for mention text.

Public entry points:

- ``score_text(text, language=None)`` — one text, no audience context;
- ``score_mention(text, language=None, *, reach=0, engagement=0, scenario_terms=None)`` — adds
  reach/engagement (they weigh risk) and a watch's scenario triggers;
- ``score_many(texts, languages=None, *, reaches=None, engagements=None, scenario_terms=None)`` —
  the same for a batch (the pipeline's path);
- ``label_for(sentiment)``, ``detect_language``, ``normalize_language``, ``language_group``.

Routing: a platform language tag is trusted; otherwise ``language.detect_language`` decides
(``id`` stands for Malay/Indonesian, ``und`` for text without enough words). English and languages
without a lexicon go to vaderSentiment; Turkish, Polish and Malay/Indonesian to the lexicons in
``lexicons/``. See docs/scoring.md for the method, the sources of every list and measured accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .english import english_sentiment
from .language import (
    detect_language,
    language_group,
    normalize_language,
    resolve_language,
)
from .lexicon import LEXICON_LANGUAGES, lexicon_sentiment
from .terms import ScenarioTerms, builtin_scenario_terms, match_crisis
from .text import fold, tokens

NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05

# Risk weights (see docs/scoring.md): content risk from negativity and crisis terms, then scaled
# by audience so that the same words from a large account matter more.
NEGATIVITY_WEIGHT = 0.75
CRISIS_WEIGHT = 0.75
AUDIENCE_FLOOR = 0.65  # an unknown or tiny audience keeps 65 % of the content risk
REACH_FULL = 6.0  # log10 followers at which reach counts fully (1M)
ENGAGEMENT_FULL = 4.0  # log10 likes+shares+replies at which engagement counts fully (10k)


@dataclass(frozen=True)
class Score:
    language: str
    sentiment: float  # -1 … 1
    label: str  # negative / neutral / positive
    risk: float  # 0 … 1
    crisis_terms: list[str] = field(default_factory=list)
    scenario_hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def label_for(sentiment: float) -> str:
    if sentiment < NEGATIVE_BELOW:
        return "negative"
    if sentiment > POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def audience_factor(reach: int, engagement: int) -> float:
    """0…1 from author reach and engagement, log-scaled (10 → 1M followers spans the range)."""
    by_reach = min(1.0, math.log10(1 + max(0, reach)) / REACH_FULL)
    by_engagement = min(1.0, math.log10(1 + max(0, engagement)) / ENGAGEMENT_FULL)
    return max(by_reach, by_engagement)


def risk_for(sentiment: float, crisis_term_count: int, reach: int = 0, engagement: int = 0) -> float:
    """Risk in [0, 1]: negativity and crisis terms, amplified by audience."""
    negativity = max(0.0, -sentiment)
    crisis = 1.0 - 0.5**crisis_term_count  # 1 term → .5, 2 → .75, 3 → .875
    content = 1.0 - (1.0 - NEGATIVITY_WEIGHT * negativity) * (1.0 - CRISIS_WEIGHT * crisis)
    scale = AUDIENCE_FLOOR + (1.0 - AUDIENCE_FLOOR) * audience_factor(reach, engagement)
    return round(min(1.0, max(0.0, content * scale)), 4)


def _sentiment(text: str, toks: list[str], language: str) -> float:
    group = language_group(language)
    if group in LEXICON_LANGUAGES:
        return lexicon_sentiment(text, toks, group)
    # English, other languages and undetermined text: VADER (English interjections and slang are
    # universal), falling back to the emoji table when VADER sees nothing.
    return english_sentiment(text)


def score_mention(
    text: str,
    language: str | None = None,
    *,
    reach: int = 0,
    engagement: int = 0,
    scenario_terms: ScenarioTerms | None = None,
) -> Score:
    """Score one mention.

    ``language`` is the platform's tag (trusted; "" or None → detect). ``scenario_terms`` maps
    scenario type → language → trigger terms (``term*`` matches inflections); None uses the
    built-in triggers. Reach and engagement only change risk, never sentiment.
    """
    text = text or ""
    lang = resolve_language(text, language)
    toks = tokens(fold(text))
    sentiment = _sentiment(text, toks, lang)
    label = label_for(sentiment)
    crisis = match_crisis(toks, lang, scenario_terms)
    # A positive mention ("great recovery after the outage") is no crisis, whatever its words.
    hint = crisis.scenario if label != "positive" else ""
    return Score(
        language=lang,
        sentiment=sentiment,
        label=label,
        risk=risk_for(sentiment, len(crisis.terms), reach, engagement),
        crisis_terms=crisis.terms,
        scenario_hint=hint,
    )


def score_text(text: str, language: str | None = None) -> Score:
    """Score one text with no reach, engagement or scenario context."""
    return score_mention(text, language)


def score_many(
    texts: Sequence[str],
    languages: Sequence[str | None] | None = None,
    *,
    reaches: Sequence[int] | None = None,
    engagements: Sequence[int] | None = None,
    scenario_terms: ScenarioTerms | None = None,
) -> list[Score]:
    """Score a batch; each list, when given, is parallel to ``texts``."""
    n = len(texts)
    for name, seq in (("languages", languages), ("reaches", reaches), ("engagements", engagements)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} items for {n} texts")
    return [
        score_mention(
            text,
            languages[i] if languages is not None else None,
            reach=reaches[i] if reaches is not None else 0,
            engagement=engagements[i] if engagements is not None else 0,
            scenario_terms=scenario_terms,
        )
        for i, text in enumerate(texts)
    ]


__all__ = [
    "NEGATIVE_BELOW",
    "POSITIVE_ABOVE",
    "Score",
    "builtin_scenario_terms",
    "detect_language",
    "label_for",
    "language_group",
    "normalize_language",
    "risk_for",
    "score_many",
    "score_mention",
    "score_text",
]
