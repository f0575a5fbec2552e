"""Token-level matching of words, stems and phrases (used for sentiment lexicons and crisis terms).

A term is one or more space-separated words; a word ending in ``*`` (or ``~``, a verb stem in the
Turkish lexicon) matches any token that starts with it. Terms are indexed by the first three letters
of their first word, so a lookup costs one dict access and a few ``startswith`` checks per token —
cheap enough to run on every mention (the throughput budget is "not much slower than VADER").
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from typing import Any

from .text import fold

MIN_STEM = 3
WORD_CACHE_SIZE = 50_000


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
        self.phrase_starts = frozenset(phrases)
        every_phrase = [t for candidates in phrases.values() for t in candidates]
        self._second_words = frozenset(t.words[1] for t in every_phrase if not t.stems[1])
        self._second_stems = tuple(sorted({t.words[1] for t in every_phrase if t.stems[1]}))
        self._memo = _TokenMemo()
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

    def may_start_phrase(self, tok: str) -> bool:
        """Whether ``tok`` matches the first word of a phrase (``phrase_at`` can only succeed there)."""
        for _, _, term in self._phrases.get(tok[:MIN_STEM], ()):
            first = term.words[0]
            if tok.startswith(first) if term.stems[0] else tok == first:
                return True
        return False

    def may_continue_phrase(self, tok: str) -> bool:
        """Whether ``tok`` matches the second word of a phrase (none can match in a text without)."""
        return tok in self._second_words or tok.startswith(self._second_stems)

    def spans(self, toks: list[str], heads: set[str], seconds: set[str]) -> list[tuple[int, Term]]:
        """(position, phrase) for each phrase matched in ``toks``, left to right, a phrase hiding
        any that would start inside it. ``heads`` / ``seconds`` hold at least every token for which
        ``may_start_phrase`` / ``may_continue_phrase`` is true: only a head followed by a second
        can start a phrase (the heads are found by a C-level ``compress``)."""
        found: list[tuple[int, Term]] = []
        covered = 0
        last = len(toks) - 1
        for i in compress(range(last), map(heads.__contains__, toks)):
            if i >= covered and toks[i + 1] in seconds:
                term = self.phrase_at(toks, i)
                if term is not None:
                    found.append((i, term))
                    covered = i + len(term.words)
        return found

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
        memo = self._memo
        # Most texts hold no term at all: one C-level set test over known misses settles them.
        if memo.misses.issuperset(toks):
            return []
        try:
            words = list(map(memo.words.__getitem__, toks))
        except KeyError:
            memo = self._learn(toks)
            words = list(map(memo.words.__getitem__, toks))
        if memo.heads.isdisjoint(toks) or memo.seconds.isdisjoint(toks):
            return list(filter(None, words))  # no phrase: the whole-word hits (a Term is always true)
        spans = self.spans(toks, memo.heads, memo.seconds)
        if not spans:
            return list(filter(None, words))
        # Phrases, with the whole-word hits between them (words inside a phrase don't count).
        found: list[Term] = []
        start = 0
        for i, phrase in spans:
            found += filter(None, words[start:i])
            found.append(phrase)
            start = i + len(phrase.words)
        found += filter(None, words[start:])
        return found

    def _learn(self, toks: list[str]) -> _TokenMemo:
        """Add the tokens the memo lacks; return the memo that holds them all (new when full)."""
        memo = self._memo
        if len(memo.words) >= WORD_CACHE_SIZE:
            self._memo = memo = _TokenMemo()
        for tok in toks:
            if tok in memo.words:
                continue
            found = self.lookup_word(tok)
            term = memo.words[tok] = found[0] if found is not None else None
            if self.may_start_phrase(tok):
                memo.heads.add(tok)
            elif term is None:
                memo.misses.add(tok)
            if self.may_continue_phrase(tok):
                memo.seconds.add(tok)
        return memo


class _TokenMemo:
    """Per-token memo of a matcher: the whole-word/stem term (or None); the tokens that match the
    first / second word of a phrase (``heads`` / ``seconds``: a text needs both for a phrase to
    match); the tokens that are neither a term nor a head (``misses``: a text of only those has no
    term). Replaced, never cleared, when full, so its parts always agree."""

    __slots__ = ("heads", "misses", "seconds", "words")

    def __init__(self) -> None:
        self.words: dict[str, Term | None] = {}
        self.heads: set[str] = set()
        self.seconds: set[str] = set()
        self.misses: set[str] = set()
