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
    """Finds the longest term starting at each token position."""

    def __init__(self, terms: list[Term]) -> None:
        index: dict[str, list[Term]] = {}
        seen: set[tuple[tuple[str, ...], tuple[bool, ...]]] = set()
        for term in terms:
            key = (term.words, term.stems)
            if key in seen:  # first entry wins (folding can merge "kötü" and "kotu")
                continue
            seen.add(key)
            index.setdefault(term.words[0][:MIN_STEM], []).append(term)
        # Longest first: more words, then a longer (more specific) first word.
        for candidates in index.values():
            candidates.sort(key=lambda t: (len(t.words), sum(map(len, t.words))), reverse=True)
        self._index = index
        self.size = len(seen)

    def best(self, toks: list[str], i: int) -> tuple[Term, int] | None:
        """The most specific term matching at ``toks[i]`` and the stem length of its last word."""
        candidates = self._index.get(toks[i][:MIN_STEM])
        if candidates:
            for term in candidates:
                n = term.match(toks, i)
                if n >= 0:
                    return term, n
        return None

    def lookup_word(self, word: str) -> tuple[Term, int] | None:
        """The most specific single-word term matching ``word`` (used for morphology fallbacks)."""
        candidates = self._index.get(word[:MIN_STEM])
        if candidates:
            for term in candidates:
                if len(term.words) == 1:
                    stem = term.words[0]
                    if word == stem or (term.stems[0] and word.startswith(stem)):
                        return term, len(stem)
        return None

    def find_all(self, toks: list[str]) -> list[Term]:
        """Every term matching anywhere in ``toks`` (all candidates, not only the longest)."""
        found: list[Term] = []
        index = self._index
        for i, tok in enumerate(toks):
            candidates = index.get(tok[:MIN_STEM])
            if candidates:
                for term in candidates:
                    if term.match(toks, i) >= 0:
                        found.append(term)
        return found
