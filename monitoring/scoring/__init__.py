"""Scoring: language, sentiment, risk and scenario hints for mention text.

Public entry points: ``score_text`` (one text) and ``score_mention`` (adds reach/engagement and
scenario trigger terms). Foundation version: English sentiment with vaderSentiment; the
multilingual version replaces the internals, not these signatures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05


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


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def label_for(sentiment: float) -> str:
    if sentiment < NEGATIVE_BELOW:
        return "negative"
    if sentiment > POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def score_mention(
    text: str,
    language: str | None = None,
    *,
    reach: int = 0,
    engagement: int = 0,
    scenario_terms: dict[str, dict[str, list[str]]] | None = None,
) -> Score:
    """Score one mention. ``scenario_terms`` maps scenario type -> language -> trigger terms."""
    sentiment = _vader().polarity_scores(text)["compound"]
    label = label_for(sentiment)
    risk = max(0.0, -sentiment) * 0.7
    return Score(language=language or "en", sentiment=sentiment, label=label, risk=round(risk, 4))


def score_text(text: str, language: str | None = None) -> Score:
    """Score one text with no reach, engagement or scenario context."""
    return score_mention(text, language)
