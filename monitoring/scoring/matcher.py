"""Token-level matching of words, stems and phrases (used for sentiment lexicons and crisis terms).

A term is one or more space-separated words; a word ending in ``*`` (or ``~``, a verb stem in the
Turkish lexicon) matches any token that starts with it. Terms are indexed by the first three letters
of their first word, so a lookup costs one dict access and a few ``startswith`` checks per token —
cheap enough to run on every mention (the throughput budget is "not much slower than VADER").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .text import fold

MIN_STEM = 3


@dataclass(frozen=True, slots=True)
class Term:
    canonical: str  # the term as written in its list, without the stem markers
    words: tuple[str, ...]  # folded words
    stems: tuple[bool, ...]  # word i matches as a prefix
    value: Any
    verb: bool = False

    def match(self, toks: list[str], i: int) -> int:
        """Length in characters of the last word's stem if the term matches at ``toks[i]``, else -1."""
        if i + len(self.words) > len(toks):
            return -1
        for offset, (word, stem) in enumerate(zip(self.words, self.stems, strict=True)):
            tok = toks[i + offset]
            if stem:
                if not tok.startswith(word):
                    return -1
            elif tok != word:
                return -1
        return len(self.words[-1])


def parse_term(raw: str, value: Any) -> Term | None:
    """Parse ``raw`` ("kötü*", "nie działa", "beğen~", "sağ_ol") into a folded Term; None if unusable."""
    words: list[str] = []
    stems: list[bool] = []
    verb = False
    for part in raw.replace("_", " ").split():
        stem = part.endswith(("*", "~"))
        verb = verb or part.endswith("~")
        word = fold(part.rstrip("*~"))
        if not word or (stem and len(word) < MIN_STEM):
            return None
        words.append(word)
        stems.append(stem)
    if not words:
        return None
    canonical = raw.replace("_", " ").replace("*", "").replace("~", "").strip().lower()
    return Term(canonical=canonical, words=tuple(words), stems=tuple(stems), value=value, verb=verb)


class TermMatcher:
    """Finds the most specific term at a token position: a phrase, else the whole word, else the
    longest stem. Single words are a dict lookup; stems and phrases are indexed by their first three
    letters, so a miss (most tokens) costs two or three dict lookups."""

    def __init__(self, terms: list[Term]) -> None:
        exact: dict[str, Term] = {}
        stems: dict[str, list[Term]] = {}
        phrases: dict[str, list[Term]] = {}
        seen: set[tuple[tuple[str, ...], tuple[bool, ...]]] = set()
        for term in terms:
            key = (term.words, term.stems)
            if key in seen:  # first entry wins (folding can merge "kötü" and "kotu")
                continue
            seen.add(key)
            if len(term.words) > 1:
                phrases.setdefault(term.words[0][:MIN_STEM], []).append(term)
            elif term.stems[0]:
                stems.setdefault(term.words[0][:MIN_STEM], []).append(term)
            else:
                exact[term.words[0]] = term
        for candidates in stems.values():
            candidates.sort(key=lambda t: len(t.words[0]), reverse=True)
        for candidates in phrases.values():
            candidates.sort(key=lambda t: (len(t.words), sum(map(len, t.words))), reverse=True)
        self._exact = exact
        self._stems = stems
        # Per candidate: (length, words as a list when no word is a stem, else None, term). A phrase
        # of whole words is then one C-level list comparison instead of a per-word Python loop.
        self._phrases = {
            key: [(len(t.words), None if any(t.stems) else list(t.words), t) for t in candidates]
            for key, candidates in phrases.items()
        }
        self._word_cache: dict[str, Term | None] = {}
        self.phrase_starts = frozenset(phrases)
        self.size = len(seen)

    def phrase_at(self, toks: list[str], i: int) -> Term | None:
        """The longest multi-word term starting at ``toks[i]``."""
        candidates = self._phrases.get(toks[i][:MIN_STEM])
        if candidates:
            for n, words, term in candidates:
                if words is not None:
                    if toks[i : i + n] == words:
                        return term
                elif term.match(toks, i) >= 0:
                    return term
        return None

    def lookup_word(self, word: str) -> tuple[Term, int] | None:
        """The whole-word entry for ``word``, else its longest matching stem, with the stem length."""
        term = self._exact.get(word)
        if term is not None:
            return term, len(word)
        candidates = self._stems.get(word[:MIN_STEM])
        if candidates:
            for term in candidates:
                if word.startswith(term.words[0]):
                    return term, len(term.words[0])
        return None

    def find_all(self, toks: list[str]) -> list[Term]:
        """Every term in ``toks``, the most specific at each position; words inside a matched phrase
        don't match again ("data bocor" is one hit, not also "bocor")."""
        found: list[Term] = []
        phrases = self.phrase_starts
        cache = self._word_cache
        covered = 0
        for i, tok in enumerate(toks):
            if i < covered:
                continue
            if tok[:MIN_STEM] in phrases:
                term = self.phrase_at(toks, i)
                if term is not None:
                    found.append(term)
                    covered = i + len(term.words)
                    continue
            hit = cache[tok] if tok in cache else self._cached_word(tok)
            if hit is not None:
                found.append(hit)
        return found

    def _cached_word(self, tok: str) -> Term | None:
        cache = self._word_cache
        if len(cache) >= 50_000:
            cache.clear()
        found = self.lookup_word(tok)
        term = cache[tok] = found[0] if found is not None else None
        return term
