"""Language routing: check the platform's tag against the text, else detect offline.

A platform tag is a hint (Bluesky and Mastodon posts carry the author's default language, not the
post's): ``check_tag`` keeps it unless a text long enough to judge clearly shows another language
group (by the vote, or by the model where the vote finds no word of the tag's language), and a tag
alone never drops a post (``text_language``).

Detection runs in three steps, cheapest first:
1. text without letters (emoji, numbers, punctuation) is ``und`` (undetermined);
2. a fast vote on distinctive letters (ğ ı ş → Turkish; ą ę ł ń ś ź ż → Polish) and frequent
   function words of our languages; a clear winner is taken without running the model;
3. otherwise py3langid's bundled model (no download at run time): a text the model reads as a
   language outside DETECTABLE (ours plus common neighbours) is ``other`` — Czech is not forced
   into Polish, nor Japanese into Indonesian —; else the best of DETECTABLE, so German or Spanish
   text isn't forced into English. Very short text the model is unsure about is routed by which
   lexicon knows its words, else ``und``.

Malay and Indonesian are one group: text alone can't reliably tell them apart, so detection stores
``id`` for both. A platform tag of ``ms`` is kept as ``ms``; ``language_group`` maps both to ``id``
wherever we route (lexicons, crisis terms, watch language filters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .english import vader
from .lexicon import lexicon as load_lexicon
from .text import fold, raw_tokens, tokens

UNDETERMINED = "und"
OTHER = "other"  # a language we don't name (Czech, Japanese …): never the nearest one we do
MALAY_INDONESIAN = "id"
CORE_LANGUAGES = ("en", "tr", "pl", "id")
# Model restriction: ours plus common neighbours on the platforms we read.
DETECTABLE = ("en", "tr", "pl", "id", "ms", "de", "fr", "es", "pt", "it", "nl", "ru", "ar")
# Close relatives of ours that the model confuses them with (on the langid sets: ~2.5 % of Turkish
# read as Turkmen, ~1 % of Malay/Indonesian as Javanese, casual English as Nigerian Pidgin): the
# text is then taken as the nearest of ours, not as "other".
RELATIVES = frozenset({"tk", "az", "crh", "tt", "ba", "uz", "uzs", "jv", "ace", "bcl", "pcm", "zxx"})
# A foreign language wins only with this probability among all the model's languages.
OTHER_MIN_PROBABILITY = 0.5
# A platform's tag is a hint: checked against the text's own vote when the text has this many
# letters (shorter text says too little to overrule the platform).
HINT_MIN_LETTERS = 25
# When the vote is undecided the model is asked, and overrules the tag only when this sure (on the
# bench's sets a right tag is then overruled for 0.1-0.6 % of texts, all but a few of them short).
HINT_MODEL_CONFIDENCE = 0.9
_ALIASES = {
    "in": "id",  # pre-1989 ISO 639-1 code for Indonesian, still sent by some APIs
    "ind": "id",
    "msa": "ms",
    "may": "ms",
    "zsm": "ms",
    "tur": "tr",
    "pol": "pl",
    "eng": "en",
}

_NO_LETTERS = re.compile(r"[\W\d_]+")
# Handles, links and HTML entities say nothing about the language ("@anonymous" reads as French).
NOISE = re.compile(r"@\w+|https?://\S+|www\.\S+|&#?\w+;")
_TR_LETTERS = re.compile("[ğışİĞŞ]")
_PL_LETTERS = re.compile("[ąęłńśźżĄĘŁŃŚŹŻ]")
_WORD = re.compile(r"[^\W\d_]{2,}")

# Frequent function words; two-letter and longer only ("i", "w", "a" are too ambiguous).
_FUNCTION_WORDS = {
    "en": "the and is are was were to of you your my it this that for with not have has be me we they just "
    "but at on what all can will so if about from there their would been very he she his her him our us an as by "
    "or do did no yes get got go like love good great day today now out up one know think want need really lol",
    "tr": "ve bir bu da de çok için ile ne ben sen biz siz ama gibi daha olarak var yok değil şu her kadar "
    "sonra cok icin degil mı mi mu mü bana beni bunu şey neden niye nasıl artık hiç zaten bile ki hem diye olan "
    "veya benim senin onun şimdi oldu olur yani tamam evet hayır çünkü lütfen",
    "pl": "nie na się że jest do jak co ale tak po czy od za sie ze juz już bo mnie mi ten jestem są był była "
    "było tylko jeszcze bardzo może dla przez który która które oraz również też gdzie kiedy więc tu tam jej "
    "jego ich nas dlaczego proszę dzięki wszystko mam ma",
    "id": "yang dan di ini itu tidak dengan untuk saya aku ke dari ada gak ga nggak juga sudah udah aja banget "
    "bgt kalau kalo karena tapi lagi bisa mau sangat kami kita yg dgn tdk akan atau pada oleh dalam tak saja "
    "sih dong deh masih hanya adalah tersebut apa gimana sekali lebih enak bagus nak dah ialah iaitu telah boleh",
    # Competitors only: a clear vote for one of ours is void if these are frequent too.
    "xx": "der die das und ist nicht ein eine le la les et est des une pas el los que es por una para con "
    "il che per della di non o um uma com não het een van zijn niet",
}


def _function_word_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for lang, words in _FUNCTION_WORDS.items():
        for word in words.split():
            word = word.lower()
            if _WORD.fullmatch(word):  # the vote only ever sees two-letter-and-longer letter runs
                index.setdefault(word, []).append(lang)
    return {w: tuple(langs) for w, langs in index.items()}


_INDEX = _function_word_index()
_VOTE_LANGUAGES = ("en", "tr", "pl", "id", "xx")  # insertion order breaks ties, as in the original sort
_VOTE_INDEX = {lang: k for k, lang in enumerate(_VOTE_LANGUAGES)}
_OTHERS_INDEX = _VOTE_INDEX["xx"]
VOTE_CACHE_SIZE = 50_000
# The vote counts function words per language with one C-level ``sum`` over the tokens: each raw
# token (of the lowercased text) is memoised as one small int holding its counts for the five
# languages in 12-bit fields, so a text's sum stays a machine integer. A field can't overflow while
# the text has at most 8190 characters (a counted word takes 2 of them, and counts once per
# language); longer texts are counted word by word.
_VOTE_BITS = 12  # _vote_tokens unpacks the fields with these shifts written out
_VOTE_MASK = (1 << _VOTE_BITS) - 1
_VOTE_SHIFTS = tuple(_VOTE_BITS * k for k in range(len(_VOTE_LANGUAGES)))
_VOTE_PACKED_MAX_LEN = 2 * _VOTE_MASK
_token_votes: dict[str, int] = {}
# Platform tags are few ("en", "tr-TR", "in"…): normalised once each.
_tags: dict[str | None, str] = {}  # None is never stored: tag_codes looks tags up as they come


def normalize_language(tag: str | None) -> str:
    """A platform language tag ("en-US", "pt_BR", "IND", "in") as a lowercase ISO 639-1 code, or ""."""
    if not tag:
        return ""
    found = _tags.get(tag)
    if found is None:
        primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
        found = _ALIASES.get(primary, primary)
        if len(_tags) < 1024:
            _tags[tag] = found
    return found


def language_group(code: str) -> str:
    """The routing group of a stored code: ``ms`` and ``id`` are one group, ``id``."""
    return MALAY_INDONESIAN if code in ("ms", "id") else code


_GROUPS = {"ms": MALAY_INDONESIAN, "id": MALAY_INDONESIAN}


def language_groups(codes: list[str]) -> list[str]:
    """``language_group`` of each code, as one C-level ``map`` of ``dict.get`` (no call per code)."""
    return list(map(_GROUPS.get, codes, codes))


def tag_codes(tags: Sequence[str | None]) -> list[str]:
    """``normalize_language`` of each platform tag, the tags seen before by one C-level ``map``."""
    codes: list[str | None] = list(map(_tags.get, tags))
    for i in [i for i, code in enumerate(codes) if code is None]:
        codes[i] = normalize_language(tags[i])
    return cast("list[str]", codes)  # every None was filled in just above


def _vote(text: str) -> str | None:
    """A clear winner among our languages from letters and function words, else None."""
    return _vote_tokens(text, raw_tokens(text.lower()))


def _learn_votes(raw: list[str]) -> dict[str, int]:
    """Add the packed vote counts of new tokens to the memo (a token like "the2nd" holds several
    words: those ``_WORD`` finds in it); return the memo."""
    votes = _token_votes
    if len(votes) >= VOTE_CACHE_SIZE:
        votes.clear()
    for tok in raw:
        if tok not in votes:
            words = [tok] if tok.isalpha() else _WORD.findall(tok)
            langs = [lang for word in words for lang in _INDEX.get(word, ())]
            votes[tok] = sum(
                langs.count(lang) << shift for lang, shift in zip(_VOTE_LANGUAGES, _VOTE_SHIFTS, strict=True)
            )
    return votes


def _vote_tokens(text: str, raw: list[str]) -> str | None:
    """``_vote`` from the raw tokens of ``text.lower()``: the letter runs ``_WORD`` would find are
    exactly the letter runs inside those tokens, so the counts are the same without a regex pass."""
    return _vote_winner(_vote_counts(text, raw))


def _vote_counts(text: str, raw: list[str]) -> list[int]:
    """Votes per ``_VOTE_LANGUAGES`` entry: function words, and distinctive letters (2 each, 3 at most)."""
    if len(text) <= _VOTE_PACKED_MAX_LEN:
        try:
            total = sum(map(_token_votes.__getitem__, raw))
        except KeyError:
            total = sum(map(_learn_votes(raw).__getitem__, raw))
        counts = [
            total & _VOTE_MASK,
            total >> 12 & _VOTE_MASK,
            total >> 24 & _VOTE_MASK,
            total >> 36 & _VOTE_MASK,
            total >> 48,
        ]
    else:  # long text (the packed fields could overflow): word by word, as _vote always did
        counts = [0] * len(_VOTE_LANGUAGES)
        for word in _WORD.findall(text.lower()):
            for lang in _INDEX.get(word, ()):
                counts[_VOTE_LANGUAGES.index(lang)] += 1
    if not text.isascii():  # the distinctive letters are not ASCII
        counts[1] += 2 * min(len(_TR_LETTERS.findall(text)), 3)
        counts[2] += 2 * min(len(_PL_LETTERS.findall(text)), 3)
    return counts


def _vote_winner(counts: list[int]) -> str | None:
    """A clear winner of the vote, else None (``counts`` is changed)."""
    # The first language (in _VOTE_LANGUAGES order) with the top count wins, as a stable sort would.
    top = max(counts)
    if top < 2:
        return None
    best = _VOTE_LANGUAGES[counts.index(top)]
    counts.remove(top)
    second = max(counts)
    # Thresholds chosen on the langid/tweet/NusaX sets: ~70-95 % of texts decided here, with no
    # wrong calls except sentences that really mix languages.
    if best == "xx" or top < 3 * second:
        return None
    return best


class _Model:
    """py3langid over every language it knows, read two ways from one pass over the text: the
    best of all its languages (is the text in one we name at all?) and the best of DETECTABLE
    (which of ours), so Czech is no longer forced into Polish nor Japanese into Indonesian."""

    def __init__(self) -> None:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.nb_ptc = np.ascontiguousarray(identifier.nb_ptc)  # contiguous: 2× faster scoring
        self.identifier = identifier
        classes = list(identifier.nb_classes)
        self.classes = classes
        self.ours = np.array([i for i, code in enumerate(classes) if code in DETECTABLE], dtype=np.intp)
        self.our_codes = [classes[i] for i in self.ours]
        position = {code: k for k, code in enumerate(self.our_codes)}
        self._partner = {"ms": position["id"], "id": position["ms"]}

    def classify(self, text: str) -> tuple[str, float]:
        """The best of DETECTABLE and its probability among them: what the model restricted to
        DETECTABLE answers (the softmax of a subset is the subset of the softmax, renormalised),
        except that Malay and Indonesian count together (one routing group)."""
        return self.read(text)[0]

    def read(self, text: str) -> tuple[tuple[str, float], tuple[str, float]]:
        """((best of DETECTABLE, its group's probability among them), (best of all, its probability))."""
        # Long texts: the first 300 characters decide as well as the whole (the walk is per byte).
        # ``_decide`` is py3langid's per-class probabilities (pinned version, see requirements.txt);
        # its public ``rank`` would build and sort a list of all 142 languages for the same numbers.
        scores = self.identifier._decide(text[:300])
        top = int(scores.argmax())
        overall = (self.classes[top], float(scores[top]))
        ours = scores[self.ours]
        total = float(ours.sum())
        if total <= 0.0:  # every one of ours underflowed next to a far better foreign language
            return (self.our_codes[0], 0.0), overall
        mine = int(ours.argmax())
        best = self.our_codes[mine]
        confidence = float(ours[mine])
        partner = self._partner.get(best)
        if partner is not None:  # Malay and Indonesian are one group: their probabilities add up
            confidence += float(ours[partner])
        return (best, confidence / total), overall


@lru_cache(maxsize=1)
def langid_model() -> _Model:
    """The py3langid model, loaded once per process (``warm_up`` loads it at worker start)."""
    return _Model()


def _lexicon_vote(text: str) -> str | None:
    """For very short text: the language whose sentiment lexicon knows the most of its words."""
    toks = tokens(fold(text))
    counts: dict[str, int] = {}
    for lang in ("tr", "pl", "id"):
        lex = load_lexicon(lang)
        hits = sum(1 for t in toks if lex.sentiment.lookup_word(t) is not None)
        if hits:
            counts[lang] = hits
    english = _english_words()
    hits = sum(1 for t in text.lower().split() if t.strip(".,!?") in english)
    if hits:
        counts["en"] = hits
    if not counts:
        return None
    top = max(counts.values())
    leaders = [lang for lang, hits in counts.items() if hits == top]
    if len(leaders) == 1:
        return leaders[0]
    # A tie that includes English ("wow", "bad" are loanwords everywhere): English.
    return "en" if "en" in leaders else None


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    return frozenset(vader().lexicon)


def has_noise(text: str) -> bool:
    """Whether ``text`` may hold handles, links or HTML entities (see ``NOISE``)."""
    return "@" in text or "&" in text or "http" in text or "www." in text


def detect_language(text: str) -> str:
    """Best-guess language code for ``text``: ISO 639-1, ``id`` for Malay/Indonesian, or ``und``."""
    if has_noise(text):
        text = NOISE.sub(" ", text)
    return detect_tokens(text, raw_tokens(text.lower()))


def detect_tokens(text: str, raw: list[str]) -> str:
    """``detect_language`` for ``text`` without noise (``has_noise`` false) and the raw tokens of
    ``text.lower()``: the batch path has both at hand already."""
    voted = _vote_tokens(text, raw)
    if voted is not None:
        # A vote needs two function words or distinctive letters, so the text has letters.
        return voted
    letters = len(_NO_LETTERS.sub("", text))
    if letters == 0:
        return UNDETERMINED
    (lang, confidence), (overall, probability) = langid_model().read(text)
    short_and_unsure = letters < 25 and confidence < 0.6
    by_lexicon = _lexicon_vote(text) if short_and_unsure else None
    if by_lexicon is not None:
        return by_lexicon
    if overall not in DETECTABLE and overall not in RELATIVES and probability >= OTHER_MIN_PROBABILITY:
        return OTHER
    if short_and_unsure and confidence < 0.3:
        return UNDETERMINED
    return language_group(lang)


def check_tag(code: str, text: str, raw: list[str]) -> str:
    """The language to score ``text`` in, given its platform tag ``code`` (normalised, not empty)
    and the raw tokens of ``text.lower()``: the tag, unless the text is long enough to judge and
    its own function words and letters clearly say another language group (an English post
    tagged ``tr`` is scored as English). The cheap vote is asked first; where it can't settle the
    text, the model (see the comment below). An empty ``code``
    (no tag) is returned as it is."""
    if not code or len(text) < HINT_MIN_LETTERS:  # no tag, or too few characters to have the letters
        return code
    if has_noise(text):
        text = NOISE.sub(" ", text)
        raw = raw_tokens(text.lower())
    counts = _vote_counts(text, raw)  # a memoised sum over the tokens: cheaper than counting letters
    group = language_group(code)
    # Votes for the tag's own language (or, for a tag outside ours, for the neighbours' words).
    own_votes = counts[_VOTE_INDEX.get(group, _OTHERS_INDEX)]
    voted = _vote_winner(counts)
    if voted is not None and language_group(voted) == group:
        return code
    if len(_NO_LETTERS.sub("", text)) < HINT_MIN_LETTERS:
        return code
    if voted is not None:
        return voted
    if own_votes:  # a function word or letter of the tag's language: the tag is plausible
        return code
    # The vote can't settle it and not one word of the tag's language is there. Read in the tag's
    # language the text would score as nothing (the Turkish lexicon knows no English, VADER no
    # Malay, and Mastodon tags every post of an English-speaking account "en"): the model is asked,
    # and a confident other answer overrules the tag.
    (lang, confidence), (overall, probability) = langid_model().read(text)
    if overall not in DETECTABLE and overall not in RELATIVES and probability >= OTHER_MIN_PROBABILITY:
        return OTHER
    if confidence >= HINT_MODEL_CONFIDENCE and language_group(lang) != language_group(code):
        return language_group(lang)
    return code


def text_language(text: str) -> str:
    """The language ``text`` itself shows (``detect_language``), or "" when it is too short to
    tell (fewer than HINT_MIN_LETTERS letters) or undetermined. Used to decide whether a post is
    outside a watch's languages: a platform tag alone never decides that."""
    if has_noise(text):
        text = NOISE.sub(" ", text)
    if len(_NO_LETTERS.sub("", text)) < HINT_MIN_LETTERS:
        return ""
    found = detect_tokens(text, raw_tokens(text.lower()))
    return "" if found == UNDETERMINED else found


def resolve_language(text: str, tag: str | None) -> str:
    """The language to store: the platform's tag as ``check_tag`` keeps or overrules it, else
    the detected one."""
    given = normalize_language(tag)
    if not given:
        return detect_language(text)
    return check_tag(given, text, raw_tokens(text.lower()))
