"""Scoring: language, sentiment, risk, crisis terms and scenario hints for mention text.

Public entry points:

- ``score_text(text, language=None)`` — one text, no audience context;
- ``score_mention(text, language=None, *, reach=0, engagement=0, scenario_terms=None)`` — adds
  reach/engagement (they weigh risk) and a watch's scenario triggers;
- ``score_many(texts, languages=None, *, reaches=None, engagements=None, scenario_terms=None)`` —
  the same for a batch (ingest's and rescoring's path);
- ``label_for(sentiment)``, ``detect_language``, ``normalize_language``, ``language_group``.

Routing: a platform language tag is a hint the text may overrule (``language.check_tag``);
otherwise ``language.detect_language`` decides (``id`` stands for Malay/Indonesian, ``und`` for
text without enough words, ``other`` for a language we don't name). English and languages
without a lexicon go to vaderSentiment; Turkish, Polish and Malay/Indonesian to the lexicons in
``lexicons/``. See docs/scoring.md for the method, the sources of every list and measured accuracy.

Everything imported here is pure (text in, scores out). Two submodules touch the database and are
imported on their own: ``rescore`` (the fallback stage for mentions stored unscored) and
``selectors`` (the scenarios' trigger terms).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from .duplicates import TextScore, duplicate_cache
from .english import english_sentiment, vader
from .language import (
    NOISE,
    OTHER,
    check_tag,
    detect_language,
    detect_tokens,
    has_noise,
    langid_model,
    language_group,
    language_groups,
    normalize_language,
    tag_codes,
    text_language,
)
from .lexicon import LEXICON_LANGUAGES, emoji_table, lexicon_sentiment
from .lexicon import lexicon as load_lexicon  # not as `lexicon`: that would hide the submodule
from .terms import CrisisFinder, ScenarioTerms, builtin_general_set, builtin_scenario_terms, builtin_set
from .text import fold_raw, raw_tokens

NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05

# Risk weights (see docs/scoring.md): content risk from negativity and crisis terms, then scaled
# by audience so that the same words from a large account matter more.
NEGATIVITY_WEIGHT = 0.75
CRISIS_WEIGHT = 0.75
AUDIENCE_FLOOR = 0.65  # an unknown or tiny audience keeps 65 % of the content risk
REACH_FULL = 6.0  # log10 followers at which reach counts fully (1M)
ENGAGEMENT_FULL = 4.0  # log10 likes+shares+replies at which engagement counts fully (10k)


class _ScoreFields(NamedTuple):
    language: str
    sentiment: float  # -1 … 1
    label: str  # negative / neutral / positive
    risk: float  # 0 … 1
    crisis_terms: list[str]
    scenario_hint: str


class Score(_ScoreFields):
    """The scores of one mention: an immutable tuple of named fields.

    Not a frozen dataclass: building one of those (``object.__setattr__`` per field, a
    ``default_factory``) cost ~3.7 µs a mention, more than the crisis-term matching. Equality stays
    as it was, field by field between two Scores (never equal to a plain tuple)."""

    __slots__ = ()

    def __new__(
        cls,
        language: str,
        sentiment: float,
        label: str,
        risk: float,
        crisis_terms: list[str] | None = None,
        scenario_hint: str = "",
    ) -> Score:
        terms = [] if crisis_terms is None else crisis_terms
        return tuple.__new__(cls, (language, sentiment, label, risk, terms, scenario_hint))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)
        # A plain tuple would compare field by field if left to tuple's own method.
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__ne__(self, other)
        return True if isinstance(other, tuple) else NotImplemented

    def _unordered(self, other: object) -> bool:
        # NotImplemented (typed Any) makes Python raise TypeError: scores have no order (as the dataclass had none).
        return NotImplemented  # type: ignore[no-any-return]

    __lt__ = __le__ = __gt__ = __ge__ = _unordered
    __hash__ = tuple.__hash__

    def as_dict(self) -> dict[str, Any]:
        # A copy of the list, as dataclasses.asdict made: the dict can be changed freely.
        return {
            "language": self.language,
            "sentiment": self.sentiment,
            "label": self.label,
            "risk": self.risk,
            "crisis_terms": list(self.crisis_terms),
            "scenario_hint": self.scenario_hint,
        }


# The batch path builds scores with tuple.__new__ directly (positional, no defaults to fill).
_new_score = tuple.__new__
_new_text_score = tuple.__new__
ONE_BATCH_MAX = 256  # score_many scores up to this many texts in one pass…
CHUNK = 128  # …and larger batches in chunks of this many (see there)


def label_for(sentiment: float) -> str:
    if sentiment < NEGATIVE_BELOW:
        return "negative"
    if sentiment > POSITIVE_ABOVE:
        return "positive"
    return "neutral"


# log10 per distinct reach / engagement value: the same few hundred values recur all day.
_AUDIENCE_CACHE_SIZE = 10_000
_by_reach: dict[int, float] = {}
_by_engagement: dict[int, float] = {}


def _reach_part(reach: int) -> float:
    if len(_by_reach) >= _AUDIENCE_CACHE_SIZE:
        _by_reach.clear()
    found = _by_reach[reach] = min(1.0, math.log10(1 + max(0, reach)) / REACH_FULL)
    return found


def _engagement_part(engagement: int) -> float:
    if len(_by_engagement) >= _AUDIENCE_CACHE_SIZE:
        _by_engagement.clear()
    found = _by_engagement[engagement] = min(1.0, math.log10(1 + max(0, engagement)) / ENGAGEMENT_FULL)
    return found


def audience_factor(reach: int, engagement: int) -> float:
    """0…1 from author reach and engagement, log-scaled (10 → 1M followers spans the range)."""
    by_reach = _by_reach.get(reach)
    if by_reach is None:
        by_reach = _reach_part(reach)
    by_engagement = _by_engagement.get(engagement)
    if by_engagement is None:
        by_engagement = _engagement_part(engagement)
    return by_engagement if by_engagement > by_reach else by_reach  # max(), without the call


# 1 − 0.5**n for the usual term counts (exact: powers of two), so risk needs no pow per mention.
_CRISIS_PART = tuple(1.0 - 0.5**n for n in range(64))


def risk_for(sentiment: float, crisis_term_count: int, reach: int = 0, engagement: int = 0) -> float:
    """Risk in [0, 1]: negativity and crisis terms, amplified by audience."""
    negativity = -sentiment if sentiment < 0.0 else 0.0  # max(0.0, -sentiment)
    # 1 term → .5, 2 → .75, 3 → .875 (precomputed for the usual counts)
    crisis = _CRISIS_PART[crisis_term_count] if 0 <= crisis_term_count < 64 else 1.0 - 0.5**crisis_term_count
    content = 1.0 - (1.0 - NEGATIVITY_WEIGHT * negativity) * (1.0 - CRISIS_WEIGHT * crisis)
    scale = AUDIENCE_FLOOR + (1.0 - AUDIENCE_FLOOR) * audience_factor(reach, engagement)
    risk = content * scale
    risk = risk if risk > 0.0 else 0.0  # max(0.0, risk), as a comparison (same for -0.0 and NaN)
    return round(risk if risk < 1.0 else 1.0, 4)  # min(1.0, …)


def _without_noise(lowered: str) -> str:
    return NOISE.sub(" ", lowered)


def _sentiment(text: str, toks: list[str], language: str) -> float:
    """The sentiment route of one text (``_score_batch`` applies it per language group)."""
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

    ``language`` is the platform's tag (a hint: a long enough text in another language group
    overrules it; "" or None → detect). ``scenario_terms`` maps
    scenario type → language → trigger terms (``term*`` matches inflections); None uses the
    built-in triggers. Reach and engagement only change risk, never sentiment.
    """
    return _score_batch([text], [language], [reach], [engagement], CrisisFinder(scenario_terms))[0]


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
    crisis_finder = CrisisFinder(scenario_terms)
    if n <= ONE_BATCH_MAX:  # the pipeline's batches (250): one pass, the best grouping
        return _score_batch(texts, languages, reaches, engagements, crisis_finder)
    # Larger batches go in chunks, so that the per-text objects a chunk keeps alive (token lists)
    # never pile up: scored in one go, 20 000 texts cost ~1.5 µs a text more in garbage collection.
    texts = list(texts)
    scores: list[Score] = []
    for lo in range(0, n, CHUNK):
        hi = lo + CHUNK
        scores += _score_batch(
            texts[lo:hi],
            list(languages[lo:hi]) if languages is not None else None,
            list(reaches[lo:hi]) if reaches is not None else None,
            list(engagements[lo:hi]) if engagements is not None else None,
            crisis_finder,
        )
    return scores


def _score_batch(
    texts: Sequence[str],
    languages: Sequence[str | None] | None,
    reaches: Sequence[int] | None,
    engagements: Sequence[int] | None,
    crisis_finder: CrisisFinder,
) -> list[Score]:
    """The scoring of ``score_many`` and ``score_mention`` for up to ONE_BATCH_MAX texts.

    Each distinct (text, platform tag) is scored once (``_score_texts``): a copy found in the
    duplicate cache, or earlier in the batch, reuses its text's scores, and only risk, which weighs
    each author's audience, is computed per mention.
    """
    n = len(texts)
    texts = [text or "" for text in texts]
    tags = [""] * n if languages is None else tag_codes(languages)
    keys = list(zip(texts, tags, strict=True))
    cache = duplicate_cache.map_for(crisis_finder.key)
    found = cache.get_many(keys)
    if None in found:
        # First position of each distinct key still to score (dict keeps the batch order).
        todo = {key: i for i, key in reversed(list(enumerate(keys))) if found[i] is None}
        firsts = sorted(todo.values())
        scored = _score_texts([texts[i] for i in firsts], [tags[i] for i in firsts], crisis_finder)
        new = dict(zip([keys[i] for i in firsts], scored, strict=True))
        cache.store(new)
        duplicate_cache.count(n, n - len(firsts))
        found = [entry if entry is not None else new[key] for entry, key in zip(found, keys, strict=True)]
    else:
        duplicate_cache.count(n, n)
    if reaches is None:
        reaches = [0] * n
    if engagements is None:
        engagements = [0] * n
    entries = cast("list[TextScore]", found)  # every None was filled in above
    return [
        _new_score(
            Score,
            (
                entry.language,
                entry.sentiment,
                entry.label,
                risk_for(entry.sentiment, len(entry.crisis_terms), reach, engagement),
                list(entry.crisis_terms),  # each Score its own list: callers may change theirs
                entry.scenario_hint,
            ),
        )
        for entry, reach, engagement in zip(entries, reaches, engagements, strict=True)
    ]


def _score_texts(texts: list[str], tags: list[str], crisis_finder: CrisisFinder) -> list[TextScore]:
    """Language, sentiment, label, crisis terms and hint of each text (its platform tag
    normalised, "" for none).

    Each text goes through the steps of ``resolve_language``, ``tokens(fold())``, ``_sentiment``
    and ``match_crisis``. Results don't depend on order, so after language resolution the texts
    are taken grouped by language: VADER, each lexicon and each term matcher then run over
    consecutive texts with their tables hot in the CPU caches (~15 % faster than interleaving
    them). Few objects live longer than one text's scoring (the token lists do), so the garbage
    collector seldom runs in here.
    """
    n = len(texts)
    # Handles, links and HTML entities are no words of the post: "@HizliKargo" is not "hızlı"
    # (fast), a link's "scam-alert" path no crisis term.
    lowered = [_without_noise(low) if has_noise(low) else low for low in map(str.lower, texts)]
    # One tokenisation serves language detection and scoring (text.fold_raw).
    raws = list(map(raw_tokens, lowered))
    # resolve_language: the platform's tag as the text confirms it, else detection.
    langs = list(map(check_tag, tags, texts, raws))
    for i in [i for i, language in enumerate(langs) if not language]:
        text = texts[i]
        langs[i] = detect_language(text) if has_noise(text) else detect_tokens(text, raws[i])
    groups = language_groups(langs)

    # From here on in group order (stable: batch order within a group).
    order = sorted(range(n), key=groups.__getitem__)
    toks = list(map(fold_raw, map(lowered.__getitem__, order), map(raws.__getitem__, order)))
    del raws, lowered
    scores: list[TextScore] = [None] * n  # type: ignore[list-item]  # every slot is set below
    end = 0
    for group, size in sorted(Counter(groups).items()):
        start, end = end, end + size
        members, group_toks = order[start:end], toks[start:end]
        group_texts = list(map(texts.__getitem__, members))
        # _sentiment: the lexicon scorer for its languages, VADER for the rest.
        if group in LEXICON_LANGUAGES:
            sentiments = list(map(load_lexicon(group).sentiment_of, group_texts, group_toks))
        else:
            sentiments = list(map(english_sentiment, group_texts))
        match = crisis_finder.matcher(group)
        for i, text_toks, sentiment in zip(members, group_toks, sentiments, strict=True):
            terms, scenario = match(text_toks)
            label = label_for(sentiment)
            # A positive mention ("great recovery after the outage") is no crisis, whatever its words.
            hint = scenario if label != "positive" else ""
            scores[i] = _new_text_score(TextScore, (langs[i], sentiment, label, tuple(terms), hint))
    return scores


def warm_up() -> None:
    """Load every table and model scoring uses (VADER's lexicon, our lexicons, term matchers and
    the py3langid model: ~0.5 s together), so the first mention a worker scores is not the slow one.
    Called when a Celery worker process starts; safe to call again (everything is cached)."""
    vader()
    langid_model()
    emoji_table()
    for group in LEXICON_LANGUAGES:
        load_lexicon(group)
    builtin_set()
    builtin_general_set()


__all__ = [
    "NEGATIVE_BELOW",
    "OTHER",
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
    "text_language",
    "warm_up",
]
