"""The scores of texts seen before: copy-paste campaigns and reposts are scored once.

In a crisis the same words arrive hundreds of times (a viral complaint reposted, a campaign's
template pasted by every account). Everything scoring derives from a text alone — language,
sentiment, label, crisis terms, scenario hint — is the same for each copy; only risk, which weighs
the author's audience, differs. ``score_many`` therefore scores each distinct (text, platform tag)
once per batch and keeps the text's part in this bounded cache, keyed also by the crisis-term sets
in use (a watch's playbook triggers change the hint). Scoring is deterministic, so a cached result
is exactly the one scoring again would give.
"""

from __future__ import annotations

from typing import Any, NamedTuple

DUPLICATE_CACHE_SIZE = 20_000  # distinct texts per generation, per set of crisis terms (see _Generations)
MAX_TERM_SETS = 16  # sets of crisis terms with a cache of their own (watches with custom triggers)


class TextScore(NamedTuple):
    """What scoring derives from a text alone (risk is computed per mention from it)."""

    language: str
    sentiment: float
    label: str
    crisis_terms: tuple[str, ...]
    scenario_hint: str


class _Generations:
    """A bounded map in two generations: new entries go to ``current``; when it is full it becomes
    ``previous`` (the older one is dropped) and a hit there is copied forward. A text reposted all
    through a surge so stays cached, at the cost of one more dict lookup on a miss, and the map
    never holds more than twice DUPLICATE_CACHE_SIZE entries."""

    __slots__ = ("current", "previous")

    def __init__(self) -> None:
        self.current: dict[tuple[str, str], TextScore] = {}
        self.previous: dict[tuple[str, str], TextScore] = {}

    def get_many(self, keys: list[tuple[str, str]]) -> list[TextScore | None]:
        found = list(map(self.current.get, keys))
        if self.previous and None in found:
            for i in [i for i, entry in enumerate(found) if entry is None]:
                entry = self.previous.get(keys[i])
                if entry is not None:
                    found[i] = self.current[keys[i]] = entry
        return found

    def store(self, entries: dict[tuple[str, str], TextScore]) -> None:
        if len(self.current) + len(entries) > DUPLICATE_CACHE_SIZE:
            self.previous, self.current = self.current, {}
        self.current.update(entries)


class DuplicateCache:
    """Bounded ``(text, tag) → TextScore`` maps, one per set of crisis terms, with hit counters.

    ``lookups`` counts every text asked for, ``hits`` those answered without scoring (found here,
    or a duplicate of an earlier text of the same batch)."""

    def __init__(self) -> None:
        self._maps: dict[Any, _Generations] = {}
        self.lookups = 0
        self.hits = 0

    def map_for(self, term_sets: Any) -> _Generations:
        """The map for one hashable identity of crisis-term sets (``CrisisFinder.key``)."""
        found = self._maps.get(term_sets)
        if found is None:
            if len(self._maps) >= MAX_TERM_SETS:
                self._maps.clear()
            found = self._maps[term_sets] = _Generations()
        return found

    def count(self, lookups: int, hits: int) -> None:
        self.lookups += lookups
        self.hits += hits

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0

    def reset_stats(self) -> None:
        self.lookups = self.hits = 0

    def clear(self) -> None:
        self._maps.clear()
        self.reset_stats()


duplicate_cache = DuplicateCache()
