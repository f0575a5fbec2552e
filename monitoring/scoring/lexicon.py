"""Project-maintained sentiment lexicons for Turkish, Polish and Malay/Indonesian, plus emoji.

A VADER-style scorer: each sentiment word contributes its valence (−4…+4), modified by nearby
intensifiers/dampeners, negators (before the word, or after it for Turkish "değil"/"yok"),
morphology (Turkish negative verb suffixes and the privative -sız; Polish "nie-" prefix;
Indonesian suffixes, ter- superlatives, ke-…-an "too …") and contrast words ("ama", "ale",
"tapi": what follows counts more). The sum is squashed to [−1, 1] with VADER's normalisation, so
thresholds mean the same in every language. The lexicon files are documented in docs/scoring.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import compress
from pathlib import Path
from typing import cast

import vaderSentiment

from .matcher import Term, TermMatcher, parse_term
from .text import PUNCTUATION, fold, tokens

LEXICON_DIR = Path(__file__).parent / "lexicons"
# English words of complaint in Turkish, Polish and Malay posts ("stress gila", "so annoying",
# "worst service") take VADER's valence when our lexicon doesn't know them. Only words of this many
# letters: the short ones collide with our languages' own (Polish "po" is "after", VADER's −2.6
# "po"; "doa"). Only clearly negative ones: positive English words are mostly names in these posts
# ("paket Freedom", "Rich Store", "award"), which on NusaX's train split cost more than they gave.
LOANWORD_MIN_LEN = 4
LOANWORD_MAX_VALENCE = -1.0
VADER_LEXICON = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
LEXICON_LANGUAGES = ("tr", "pl", "id")

NEGATION_SCALAR = -0.74  # VADER's N_SCALAR: "not good" is less negative than "bad" is
MORPH_NEGATION_SCALAR = -0.8  # a negated verb form ("beğenmedim") is a firm statement
NEGATION_WINDOW = 3
SARCASM_SCALAR = -0.6  # ironic praise is a complaint, milder than a plain insult
# Without an ironic face, the rest of the text must complain at least this much (one clear
# complaint word): "sejuk … mahal … bagus" (cool, pricey, good) is a mixed review, not irony.
IRONY_MIN_COMPLAINT = 1.5
# Faces that make praise ironic on their own; claps only after a complaint ("3 saattir 👏👏").
IRONIC_FACES = ("🙃", "🙄", "😒", "🤡")
CLAPS = ("👏",)
ALPHA = 15.0  # VADER's normalisation constant
EXCLAMATION_BOOST = 0.292
# Repeated question marks strengthen what the text already says, as in VADER (0.18 each, 0.96 from
# four on); one "?" is a plain question and changes nothing.
QUESTION_BOOST, QUESTION_BOOST_MAX = 0.18, 0.96
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5

# Turkish negative verb suffix right after the stem: -ma/-me (not -mak/-mek infinitive, not -malı
# necessitative), -mıyor/-miyor/-muyor/-müyor, and -(y)ama/-(y)eme "cannot". Text is folded (ı→i, ü→u).
_TR_NEG_VERB = re.compile(r"(?:y?[ae])?m(?:[ae](?!k|li)|[iu]yor)")
_TR_PRIVATIVE = re.compile(r"s[iu]z")
# An unknown Turkish verb in the "cannot" form (-(y)amıyor, -(y)amadı, -(y)amaz: ulaşamıyorum,
# bulunamadı, olamaz) or in the negative present (-mıyor: dönmüyor, ilgilenmiyor) says something
# does not work: in a mention of a brand that is a complaint, milder than a sentiment word. Folded
# text, person endings allowed after the suffix. Verbs that stay neutral ("bilmiyorum", I don't
# know) are listed with valence 0 in tr.txt.
_TR_CANNOT = re.compile(
    r"[^aeiu]y?[ae]m(?:[iu]yor|[ae]d[iu]|[ae]z)(?:[iu]?[mnz]|sun|[iu]z|d[iu]|l[ae]r|sin|m[iu]s)*$"
)
_TR_DOES_NOT = re.compile(r"m[iu]yor(?:[iu]?[mnz]|sun|[iu]z|d[iu]|l[ae]r|m[iu]s)*$")
TR_CANNOT_VALENCE = -1.2
TR_DOES_NOT_VALENCE = -0.8
_ID_SUFFIX = re.compile(r"(?:nya|lah|kah|pun|ku|mu)$")
_ID_ENDINGS = ("nya", "lah", "kah", "pun", "ku", "mu", "2")
WORD_CACHE_SIZE = 50_000


def _read_sections(path: Path) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line)
    return sections


def _pairs(lines: list[str]) -> list[tuple[str, float]]:
    out = []
    for line in lines:
        term, _, value = line.rpartition(" ")
        out.append((term.strip(), float(value)))
    return out


def _words(lines: list[str]) -> set[str]:
    return {fold(w.replace("_", " ")) for line in lines for w in ([line] if "_" in line else line.split())}


@cache
def _vader_words() -> dict[str, float]:
    """VADER's lexicon (word → mean valence), read from the file vaderSentiment ships."""
    words = {}
    for line in VADER_LEXICON.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            words[parts[0]] = float(parts[1])
    return words


def _loanwords(excluded: set[str]) -> dict[str, float]:
    return {
        word: valence
        for word, valence in _vader_words().items()
        if valence <= LOANWORD_MAX_VALENCE
        and len(word) >= LOANWORD_MIN_LEN
        and word.isascii()
        and word.isalpha()
        and word not in excluded
    }


def _tr_negative_verb(tok: str) -> float | None:
    """The valence of an unknown Turkish token that is a negated verb form, else None."""
    if _TR_CANNOT.search(tok):
        return TR_CANNOT_VALENCE
    if _TR_DOES_NOT.search(tok):
        return TR_DOES_NOT_VALENCE
    return None


class _WordMemo:
    """Per-token memo of a lexicon: valence (None: none); the tokens that match the first / second
    word of a phrase (``heads`` / ``seconds``: a text without both has no phrase); ``quiet``, the
    tokens with no valence that start no phrase (a text of only those sums to 0); ``special``, the
    heads plus every negator, intensifier and contrast word (a text with none of them is a plain
    sum of valences). Replaced, never cleared, when full, so its parts always agree."""

    __slots__ = ("heads", "quiet", "seconds", "special", "valences")

    def __init__(self, valences: dict[str, float | None], special: frozenset[str]) -> None:
        self.valences = valences
        self.heads: set[str] = set()
        self.seconds: set[str] = set()
        self.quiet: set[str] = set()
        self.special: set[str] = set(special)


@dataclass
class Lexicon:
    language: str
    sentiment: TermMatcher
    negators: set[str]
    negators_after: set[str]
    intensifiers: dict[str, float]
    intensifiers_after: dict[str, float]
    contrast: set[str]
    stopwords: set[str]
    # Praise that irony turns into a complaint ("Harika, yine gecikme 🙃"), and the words that mark
    # the irony ("yine", "znowu": again); see ``sentiment_of``.
    sarcastic: set[str] = field(default_factory=set)
    irony: set[str] = field(default_factory=set)
    # English loanwords and their VADER valences, minus our language's own words that VADER lists.
    loanwords: dict[str, float] = field(default_factory=dict)
    # How many words after a sentiment word a negator or intensifier may stand ([scope] in the
    # file): Turkish "değil" closes a whole noun phrase ("iyi bir hizmet değil", not a good service).
    after_window: int = 2
    words: set[str] = field(default_factory=set)  # every sentiment word/stem, for short-text routing
    modifiers: set[str] = field(default_factory=set)  # negators etc. that carry no valence themselves
    _seed: dict[str, None] = field(default_factory=dict, repr=False)
    _memo: _WordMemo = field(init=False, repr=False)
    # Words that make ``_modify`` act when found before / after a sentiment word, and either.
    _before: frozenset[str] = field(init=False, repr=False)
    _after: frozenset[str] = field(init=False, repr=False)
    _modifying: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        modifiers = self.negators | self.negators_after | self.contrast | set(self.intensifiers)
        self.modifiers = {w for w in modifiers if self.sentiment.lookup_word(w) is None}
        self._seed = dict.fromkeys(self.modifiers | PUNCTUATION)
        self._before = frozenset(self.negators | set(self.intensifiers))
        self._after = frozenset(self.negators_after | set(self.intensifiers_after))
        self._modifying = self._before | self._after
        self._memo = self._fresh_memo()

    def _fresh_memo(self) -> _WordMemo:
        memo = _WordMemo({}, self._modifying | self.contrast | self.sarcastic)
        self._remember(memo, self._seed, seeded=True)
        return memo

    def _remember(self, memo: _WordMemo, toks: Iterable[str], *, seeded: bool = False) -> None:
        """Put the tokens the memo lacks in it (seeded: modifiers and punctuation, no valence)."""
        for tok in toks:
            if tok in memo.valences:
                continue
            valence = memo.valences[tok] = None if seeded else self._compute_valence(tok)
            head = self.sentiment.may_start_phrase(tok)
            if head:
                memo.heads.add(tok)
                memo.special.add(tok)
            elif not valence:
                memo.quiet.add(tok)
            if self.sentiment.may_continue_phrase(tok):
                memo.seconds.add(tok)

    @classmethod
    def load(cls, language: str) -> Lexicon:
        sections = _read_sections(LEXICON_DIR / f"{language}.txt")
        terms: list[Term] = []
        for raw, valence in _pairs(sections.get("sentiment", [])):
            term = parse_term(raw, valence)
            if term is not None:
                terms.append(term)
        intensifiers = {fold(w): v for w, v in _pairs(sections.get("intensifiers", []))}
        intensifiers.update({fold(w): v for w, v in _pairs(sections.get("dampeners", []))})
        return cls(
            language=language,
            sentiment=TermMatcher(terms),
            negators=_words(sections.get("negators", [])),
            negators_after=_words(sections.get("negators_after", [])),
            intensifiers=intensifiers,
            intensifiers_after={fold(w): v for w, v in _pairs(sections.get("intensifiers_after", []))},
            contrast=_words(sections.get("contrast", [])),
            stopwords=_words(sections.get("stopwords", [])),
            sarcastic=_words(sections.get("sarcastic", [])),
            irony=_words(sections.get("irony", [])),
            loanwords=_loanwords(_words(sections.get("not_loanwords", []))),
            after_window=int(dict(_pairs(sections.get("scope", []))).get("after_window", 2)),
            words={t.words[0] for t in terms if len(t.words) == 1 and t.value},
        )

    # --- morphology -------------------------------------------------------------------------
    def _learn(self, toks: list[str]) -> _WordMemo:
        """Add the tokens the memo lacks (valence, and whether a phrase may start there); return
        the memo that now holds them all (a new one when the old one was full)."""
        memo = self._memo
        if len(memo.valences) >= WORD_CACHE_SIZE:
            self._memo = memo = self._fresh_memo()
        self._remember(memo, toks)
        return memo

    def _compute_valence(self, tok: str) -> float | None:
        """Valence of a single token that matched no phrase, using language morphology."""
        found = self.sentiment.lookup_word(tok)
        if found is not None:
            term, stem_len = found
            valence = float(term.value)
            rest = tok[stem_len:]
            if rest and self.language == "tr":
                if term.verb and _TR_NEG_VERB.match(rest):
                    return valence * MORPH_NEGATION_SCALAR
                if not term.verb and _TR_PRIVATIVE.match(rest):
                    return valence * MORPH_NEGATION_SCALAR
            return valence
        lang = self.language
        if lang == "tr" and len(tok) > 5:
            verb = _tr_negative_verb(tok)
            if verb is not None:
                return verb
        if lang == "pl" and len(tok) > 5 and tok.startswith("nie"):
            inner = self.sentiment.lookup_word(tok[3:])
            if inner is not None:
                return float(inner[0].value) * MORPH_NEGATION_SCALAR
        elif lang == "id" and len(tok) > 4 and (tok.endswith(_ID_ENDINGS) or tok.startswith(("ter", "ke"))):
            found_id = self._id_valence(tok)
            if found_id is not None:
                return found_id
        return self.loanwords.get(tok)

    def _id_valence(self, tok: str) -> float | None:
        lookup = self.sentiment.lookup_word
        base = tok.rstrip("2")
        stripped = _ID_SUFFIX.sub("", base)
        for candidate in (base, stripped):
            if candidate != tok and len(candidate) >= 3:
                found = lookup(candidate)
                if found is not None:
                    return float(found[0].value)
        if stripped.startswith("ter") and len(stripped) > 5:  # terbaik, termahal: superlative
            found = lookup(stripped[3:])
            if found is not None:
                return float(found[0].value) * 1.2
        if stripped.startswith("ke") and stripped.endswith("an") and len(stripped) > 6:  # kemahalan
            found = lookup(stripped[2:-2])
            if found is not None:
                return float(found[0].value) * 1.1
        return None

    # --- scoring ----------------------------------------------------------------------------
    def valence_sum(self, toks: list[str]) -> float:
        """Sum of modified valences of the sentiment words in ``toks``."""
        memo = self._memo
        if memo.quiet.issuperset(toks):  # no sentiment word, no phrase (C-level set test)
            return 0.0
        try:
            # Word valences by a C-level map over the memo; a new word (KeyError) is rare once warm.
            # Modifiers and punctuation are pre-seeded as None (no valence).
            valences = list(map(memo.valences.__getitem__, toks))
        except KeyError:
            memo = self._learn(toks)
            valences = list(map(memo.valences.__getitem__, toks))
        if memo.special.isdisjoint(toks):
            # No phrase, negator, intensifier or contrast word: the valences as they are.
            total = 0.0
            # compress keeps the truthy valences only: no None among them.
            for valence in cast("Iterator[float]", compress(valences, valences)):
                total += valence
            return total
        spans = None
        if not (memo.heads.isdisjoint(toks) or memo.seconds.isdisjoint(toks)):
            spans = self.sentiment.spans(toks, memo.heads, memo.seconds)
        if not spans:  # no phrase: every token stands alone
            if not any(valences):
                return 0.0
            modify = self._modify
            # i runs over the truthy valences only (compress), so valences[i] is never None.
            hits = [(i, modify(toks, i, i + 1, valences[i])) for i in compress(range(len(toks)), valences)]  # type: ignore[arg-type]
        else:
            hits = self._hits_with_phrases(toks, valences, spans)
            if not hits:
                return 0.0
        contrast_at = -1
        if not self.contrast.isdisjoint(toks):
            contrast_at = next(j for j, t in enumerate(toks) if t in self.contrast)
        total = 0.0
        for pos, valence in hits:
            if contrast_at >= 0:
                valence *= CONTRAST_AFTER if pos > contrast_at else CONTRAST_BEFORE
            total += valence
        return total

    def weighted_hits(self, toks: list[str]) -> list[tuple[int, float]]:
        """(position, valence) of each sentiment term in ``toks`` with negation, intensifiers and
        contrast applied: the terms whose sum ``valence_sum`` returns (the slow, general path)."""
        memo = self._learn(toks)
        valences = list(map(memo.valences.__getitem__, toks))
        spans = None
        if not (memo.heads.isdisjoint(toks) or memo.seconds.isdisjoint(toks)):
            spans = self.sentiment.spans(toks, memo.heads, memo.seconds)
        if spans:
            hits = self._hits_with_phrases(toks, valences, spans)
        else:
            hits = [(i, self._modify(toks, i, i + 1, v)) for i, v in enumerate(valences) if v]
        if self.contrast.isdisjoint(toks):
            return hits
        contrast_at = next(j for j, t in enumerate(toks) if t in self.contrast)
        return [(pos, v * (CONTRAST_AFTER if pos > contrast_at else CONTRAST_BEFORE)) for pos, v in hits]

    def sentiment_of(self, text: str, toks: list[str]) -> float:
        """The compound sentiment of ``text`` (folded tokens ``toks``): ``compound(text,
        valence_sum(toks))``, except that praise said in irony counts as the complaint it is.

        Praise (``[sarcastic]``: "harika", "super", "dzięki", "terima kasih") is ironic when the
        text has an ironic face (🙃 🙄 😒 🤡), or when the rest of the text complains (a valence
        sum of at most −IRONY_MIN_COMPLAINT) and either
        an irony word ("yine", "znowu", "lagi": again), a clap (👏) or the praise coming after the
        complaint without a contrast word ("… 3 saattir bekliyorum, teşekkürler") marks it. Ironic
        praise and positive emoji then count SARCASM_SCALAR times their valence."""
        if self.sarcastic.isdisjoint(toks):
            return compound(text, self.valence_sum(toks))
        hits = self.weighted_hits(toks)
        praise = [(pos, v) for pos, v in hits if v > 0 and toks[pos] in self.sarcastic]
        emoji = emoji_table().valences_in(text) if not text.isascii() or _may_hold_emoticon(text) else []
        total = sum(v for _, v in hits)
        if praise:
            rest = total - sum(v for _, v in praise)
            negative_at = [pos for pos, v in hits if v < 0]
            after_complaint = (
                bool(negative_at)
                and self.contrast.isdisjoint(toks)
                and any(pos > negative_at[0] for pos, _ in praise)
            )
            ironic = any(face in text for face in IRONIC_FACES) or (
                rest <= -IRONY_MIN_COMPLAINT
                and (not self.irony.isdisjoint(toks) or any(c in text for c in CLAPS) or after_complaint)
            )
            if ironic:
                total = rest + sum(v * SARCASM_SCALAR for _, v in praise)
                emoji = [e * SARCASM_SCALAR if e > 0 else e for e in emoji]
        return squash(text, total + sum(emoji))

    def _hits_with_phrases(
        self, toks: list[str], valences: list[float | None], spans: list[tuple[int, Term]]
    ) -> list[tuple[int, float]]:
        """(position, modified valence) per sentiment term, the phrases of ``spans`` taking
        precedence over their words: words inside a matched phrase don't count again."""
        hits: list[tuple[int, float]] = []
        modify = self._modify
        start = 0
        for i, phrase in spans:
            hits.extend((j, modify(toks, j, j + 1, v)) for j in range(start, i) if (v := valences[j]))
            end = i + len(phrase.words)
            valence = float(phrase.value)
            if valence:
                hits.append((i, modify(toks, i, end, valence)))
            start = end
        hits.extend((j, modify(toks, j, j + 1, v)) for j in range(start, len(toks)) if (v := valences[j]))
        return hits

    def _modify(self, toks: list[str], start: int, end: int, valence: float) -> float:
        # Most sentiment words have no negator or intensifier around them: two C-level set tests
        # settle that before the word-by-word loops (which then change nothing: punctuation only
        # ends them early).
        before = toks[start - NEGATION_WINDOW if start > NEGATION_WINDOW else 0 : start]
        after_window = self.after_window
        if self._before.isdisjoint(before) and self._after.isdisjoint(toks[end : end + after_window]):
            return valence
        sign = 1.0 if valence > 0 else -1.0
        negated = False
        for distance in range(1, NEGATION_WINDOW + 1):
            j = start - distance
            if j < 0:
                break
            word = toks[j]
            if word in PUNCTUATION:
                break
            boost = self.intensifiers.get(word)
            if boost is not None:
                valence += sign * boost * (1.0 - 0.05 * (distance - 1))
            elif word in self.negators:
                negated = True
        for j in range(end, end + after_window):
            if j >= len(toks):
                break
            word = toks[j]
            if word in PUNCTUATION:
                break
            if word in self.negators_after:
                negated = True
                break
            boost = self.intensifiers_after.get(word)
            if boost is not None:
                valence += sign * boost
        return valence * NEGATION_SCALAR if negated else valence


# --- emoji --------------------------------------------------------------------------------------
_EMOJI_HINT = re.compile("[\u2600-\u27bf\u2b50\U0001f000-\U0001faff]")
_EMOTICON_HINT = re.compile(r"[:;=<>]|-_-|[xX]D")


def _may_hold_emoticon(text: str) -> bool:
    """``_EMOTICON_HINT.search(text)`` as substring tests, ~4× faster than the regex scan."""
    return (
        ":" in text
        or ";" in text
        or "=" in text
        or "<" in text
        or ">" in text
        or "-_-" in text
        or "xD" in text
        or "XD" in text
    )


@dataclass
class EmojiTable:
    pattern: re.Pattern[str] | None
    valences: dict[str, float]
    emoticons: re.Pattern[str] | None

    @classmethod
    def load(cls) -> EmojiTable:
        sections = _read_sections(LEXICON_DIR / "emoji.txt")
        valences: dict[str, float] = {}
        for symbol, value in _pairs(sections.get("emoji", [])):
            valences[symbol.replace("\ufe0f", "")] = value
        emoticons = _pairs(sections.get("emoticons", []))
        for symbol, value in emoticons:
            valences[symbol] = value
        symbols = sorted((s for s, _ in _pairs(sections.get("emoji", []))), key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(s.replace("\ufe0f", "")) for s in symbols))
        faces = sorted((s for s, _ in emoticons), key=len, reverse=True)
        # An emoticon stands alone or ends a word ("great:)"), never inside a URL or a time.
        emoticon_re = re.compile(r"(?<![:/])(?:" + "|".join(re.escape(f) for f in faces) + r")(?![\w/])")
        return cls(pattern=pattern, valences=valences, emoticons=emoticon_re)

    def valences_in(self, text: str) -> list[float]:
        found: list[float] = []
        # Emoji are never ASCII (most texts are): str.isascii() is O(1), the regex scan is not.
        if not text.isascii() and _EMOJI_HINT.search(text) and self.pattern is not None:
            cleaned = text.replace("\ufe0f", "")
            found.extend(self.valences[m] for m in self.pattern.findall(cleaned))
        if _may_hold_emoticon(text) and self.emoticons is not None:
            found.extend(self.valences[m] for m in self.emoticons.findall(text))
        return found


@lru_cache(maxsize=1)
def emoji_table() -> EmojiTable:
    return EmojiTable.load()


@cache
def lexicon(language: str) -> Lexicon:
    return Lexicon.load(language)


def normalise(total: float) -> float:
    """VADER's squashing of a valence sum into [−1, 1]."""
    if not total:
        return 0.0
    score = total / math.sqrt(total * total + ALPHA)
    return max(-1.0, min(1.0, score))


def exclamation_emphasis(text: str, total: float) -> float:
    if not total:
        return total
    marks = min(text.count("!"), 4) * EXCLAMATION_BOOST
    return total + marks if total > 0 else total - marks


def lexicon_sentiment(text: str, folded_tokens: list[str], language: str) -> float:
    """Compound sentiment in [−1, 1] for a Turkish, Polish or Malay/Indonesian text."""
    return lexicon(language).sentiment_of(text, folded_tokens)


def compound(text: str, total: float) -> float:
    """The rounded compound score from a text's word valence sum: emoji, "!", normalisation.

    ``round(normalise(exclamation_emphasis(text, total + sum(emoji))), 4)`` with the three steps
    inlined (this runs for every non-English mention)."""
    if not text.isascii() or _may_hold_emoticon(text):  # else valences_in finds nothing
        emoji = emoji_table().valences_in(text)
        if emoji:
            total += sum(emoji)
    return squash(text, total)


def squash(text: str, total: float) -> float:
    """The rounded compound score from a valence sum that already holds the emoji: "!" and
    repeated "?" emphasis, and normalisation (``compound`` without its emoji step)."""
    if not total:  # nothing to emphasise or squash: both functions return 0 for 0
        return 0.0
    if "!" in text:  # exclamation_emphasis (adding 0 marks would change nothing); never 0 after
        marks = min(text.count("!"), 4) * EXCLAMATION_BOOST
        total = total + marks if total > 0 else total - marks
    if "??" in text or "?!" in text or "!?" in text:  # "Nerede kargom???", "Serio?!": insistence
        questions = text.count("?")
        if questions > 1:
            emphasis = QUESTION_BOOST * questions if questions <= 3 else QUESTION_BOOST_MAX
            total = total + emphasis if total > 0 else total - emphasis
    score = total / math.sqrt(total * total + ALPHA)  # normalise
    score = score if score < 1.0 else 1.0  # min(1.0, score), as a comparison
    return round(score if score > -1.0 else -1.0, 4)  # max(-1.0, …)


def emoji_sentiment(text: str) -> float:
    """Compound sentiment from emoji/emoticons alone (text with no usable words)."""
    return compound(text, 0.0)


__all__ = ["LEXICON_LANGUAGES", "emoji_sentiment", "emoji_table", "lexicon", "lexicon_sentiment", "tokens"]
