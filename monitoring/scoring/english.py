"""English (and fallback) sentiment: vaderSentiment, with our emoji table when VADER sees nothing."""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from .lexicon import emoji_sentiment

NEUTRAL_BAND = 0.05


@lru_cache(maxsize=1)
def vader() -> SentimentIntensityAnalyzer:
    """One analyzer per process: building it parses VADER's lexicon files (~50 ms)."""
    return SentimentIntensityAnalyzer()


def english_sentiment(text: str) -> float:
    compound: float = vader().polarity_scores(text)["compound"]
    if -NEUTRAL_BAND < compound < NEUTRAL_BAND:
        # VADER reads emoji through their English names and misses many ("😡" → 0).
        from_emoji = emoji_sentiment(text)
        if from_emoji:
            return from_emoji
    return compound  # VADER rounds it to 4 places already (rounding again changes nothing)
