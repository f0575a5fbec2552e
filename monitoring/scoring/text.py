"""Text normalisation shared by the lexicon scorer, the term matcher and language routing.

Folding maps text to lowercase ASCII-ish letters so that social-media spellings without diacritics
("kotu", "swietnie", "sikayet") find the lexicon entries written with them, and collapses letters
repeated for emphasis ("baguuus", "çoooook") to one.
"""

from __future__ import annotations

import re

# Turkish capitals first: str.lower() turns "İ" into "i" + combining dot and "I" into "i".
_FOLD = str.maketrans(
    {
        "İ": "i",
        "I": "i",
        "ç": "c",
        "ğ": "g",
        "ı": "i",
        "ö": "o",
        "ş": "s",
        "ü": "u",
        "â": "a",
        "î": "i",
        "û": "u",
        "ą": "a",
        "ć": "c",
        "ę": "e",
        "ł": "l",
        "ń": "n",
        "ó": "o",
        "ś": "s",
        "ź": "z",
        "ż": "z",
        "é": "e",
        "è": "e",
        "ê": "e",
        "ë": "e",
        "á": "a",
        "à": "a",
        "ä": "a",
        "í": "i",
        "ï": "i",
        "ú": "u",
        "ù": "u",
        "ñ": "n",
        "\u0307": "",  # combining dot left over from a lowercased "İ"
        "’": "'",
    }
)
_REPEATS = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(r"[^\W_]+|[.,;:!?()]")
PUNCTUATION = frozenset(".,;:!?()")


def fold(text: str) -> str:
    """Lowercase, strip Turkish/Polish/Latin diacritics, collapse 3+ repeated letters to one."""
    folded = text.translate(_FOLD).lower().translate(_FOLD)
    return _REPEATS.sub(r"\1", folded)


def tokens(folded: str) -> list[str]:
    """Word tokens of already folded text, plus clause punctuation as one-character tokens
    (negation and intensifiers don't reach across ",", ".", "!" …)."""
    return _TOKEN.findall(folded)
