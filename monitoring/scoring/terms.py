"""Crisis terms and scenario trigger terms.

Built-in lists live in ``lexicons/crisis_terms.json`` as ``{scenario_type | "general": {lang: [terms]}}``.
Callers (ingest, rescoring) pass a watch's playbook triggers in the same shape as ``scenario_terms``;
they are matched on top of the built-in general crisis terms and replace the built-in scenario
lists for the hint. Terms are matched on folded tokens of the mention's language group plus
English, since English loanwords ("refund", "hack", "scam") are common in every language we read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .language import language_group
from .lexicon import LEXICON_DIR
from .matcher import Term, TermMatcher, parse_term

GENERAL = "general"
# Tie-break for the scenario hint: the more urgent kind of crisis first.
SCENARIO_PRIORITY = (
    "data_breach",
    "product_defect",
    "external_event",
    "employee_misconduct",
    "service_failure",
    "offensive_content",
    "misinformation",
    "viral_complaint",
)

ScenarioTerms = Mapping[str, Mapping[str, list[str]]]


@lru_cache(maxsize=1)
def builtin_terms() -> dict[str, dict[str, list[str]]]:
    """Built-in triggers ``{scenario_type | "general": {lang: [terms]}}`` (also the playbook seed)."""
    data: dict[str, dict[str, list[str]]] = json.loads(
        (LEXICON_DIR / "crisis_terms.json").read_text(encoding="utf-8")
    )
    data.pop("_comment", None)
    return data


def builtin_scenario_terms() -> dict[str, dict[str, list[str]]]:
    """Built-in scenario triggers only (no "general" list), in the ``scenario_terms`` shape."""
    return {k: v for k, v in builtin_terms().items() if k != GENERAL}


@dataclass(frozen=True)
class CrisisMatch:
    terms: list[str]  # distinct canonical terms, in order of appearance
    scenario: str  # best scenario type, or ""
    scenario_hits: int


class TermSet:
    """Compiled matchers per language group for one ``{scenario: {lang: [terms]}}`` mapping."""

    def __init__(self, mapping: ScenarioTerms) -> None:
        per_lang: dict[str, list[Term]] = {}
        every: list[Term] = []
        for scenario, by_lang in mapping.items():
            for lang, raw_terms in by_lang.items():
                group = language_group(lang.lower())
                for raw in raw_terms:
                    term = parse_term(str(raw), scenario)
                    if term is not None:
                        per_lang.setdefault(group, []).append(term)
                        every.append(term)
        english = per_lang.get("en", [])
        self._matchers = {
            lang: TermMatcher(terms + (english if lang != "en" else [])) for lang, terms in per_lang.items()
        }
        self._english = TermMatcher(english)
        self._every = TermMatcher(every)

    def matcher_for(self, group: str) -> TermMatcher:
        if group in self._matchers:
            return self._matchers[group]
        # Undetermined text: every list. Other languages: the English (loanword) list.
        return self._every if group == "und" else self._english

    def find(self, toks: list[str], group: str) -> list[Term]:
        return self.matcher_for(group).find_all(toks)


@lru_cache(maxsize=1)
def builtin_set() -> TermSet:
    return TermSet(builtin_terms())


@lru_cache(maxsize=1)
def builtin_general_set() -> TermSet:
    return TermSet({GENERAL: builtin_terms()[GENERAL]})


def _freeze(mapping: ScenarioTerms) -> tuple[Any, ...]:
    return tuple(
        (scenario, tuple((lang, tuple(terms)) for lang, terms in sorted(by_lang.items())))
        for scenario, by_lang in sorted(mapping.items())
    )


_custom_cache: dict[tuple[Any, ...], TermSet] = {}


def custom_set(mapping: ScenarioTerms) -> TermSet:
    """Compiled TermSet for caller-supplied triggers, cached by content (the pipeline repeats them)."""
    key = _freeze(mapping)
    found = _custom_cache.get(key)
    if found is None:
        if len(_custom_cache) > 256:
            _custom_cache.clear()
        found = _custom_cache[key] = TermSet(mapping)
    return found


_PRIORITY = {name: rank for rank, name in enumerate(SCENARIO_PRIORITY)}


def _rank(item: tuple[str, set[str]]) -> tuple[int, int]:
    name, terms = item
    return (-len(terms), _PRIORITY.get(name, len(SCENARIO_PRIORITY)))


def _summarise(found: list[Term]) -> tuple[list[str], str, int]:
    """Distinct canonical terms in order of appearance, the scenario with the most of them and how
    many (a plain tuple: the batch path makes one per text with terms)."""
    if len(found) == 1:  # the usual case, without the sets and the ranking
        term = found[0]
        if term.value != GENERAL:
            return [term.canonical], term.value, 1
        return [term.canonical], "", 0
    per_scenario: dict[str, set[str]] = {}
    for term in found:
        if term.value != GENERAL:
            per_scenario.setdefault(term.value, set()).add(term.canonical)
    terms = list(dict.fromkeys([term.canonical for term in found]))
    if not per_scenario:
        return terms, "", 0
    if len(per_scenario) == 1:
        ((scenario, scenario_terms),) = per_scenario.items()
    else:
        scenario, scenario_terms = min(per_scenario.items(), key=_rank)
    return terms, scenario, len(scenario_terms)


class CrisisFinder:
    """``match_crisis`` for one ``scenario_terms`` value, with its compiled matchers looked up once
    (per batch) instead of per text: resolving a custom mapping means freezing it to a cache key."""

    def __init__(self, scenario_terms: ScenarioTerms | None) -> None:
        if scenario_terms is None:
            self._sets: tuple[TermSet, ...] = (builtin_set(),)
        else:
            self._sets = (builtin_general_set(), custom_set(scenario_terms))
        # Which sets this finder matches (they are cached by content, so equal triggers give the
        # same objects): the duplicate cache keeps one map per key.
        self.key = self._sets
        self._by_group: dict[str, tuple[TermMatcher, ...]] = {}
        self._matchers: dict[str, Callable[[list[str]], tuple[list[str], str]]] = {}

    def find(self, toks: list[str], group: str) -> list[Term]:
        """Every term in ``toks`` (folded) of a text in language group ``group``."""
        matchers = self._by_group.get(group)
        if matchers is None:
            matchers = self._by_group[group] = tuple(s.matcher_for(group) for s in self._sets)
        if len(matchers) == 1:
            return matchers[0].find_all(toks)
        return matchers[0].find_all(toks) + matchers[1].find_all(toks)

    def matcher(self, group: str) -> Callable[[list[str]], tuple[list[str], str]]:
        """A function from the folded tokens of a text in ``group`` to (distinct crisis terms,
        scenario or ""), with the group's matchers bound once for a run of such texts."""
        match = self._matchers.get(group)
        if match is None:
            match = self._matchers[group] = self._new_matcher(group)
        return match

    def _new_matcher(self, group: str) -> Callable[[list[str]], tuple[list[str], str]]:
        finders = [s.matcher_for(group).find_all for s in self._sets]
        if len(finders) == 1:
            find = finders[0]
        else:
            general, custom = finders

            def find(toks: list[str]) -> list[Term]:
                return general(toks) + custom(toks)

        def match(toks: list[str]) -> tuple[list[str], str]:
            terms = find(toks)
            if not terms:
                return [], ""
            canonical, scenario, _ = _summarise(terms)
            return canonical, scenario

        return match


def match_crisis(toks: list[str], language: str, scenario_terms: ScenarioTerms | None) -> CrisisMatch:
    """Crisis terms in ``toks`` (folded) and the scenario they point to."""
    found = CrisisFinder(scenario_terms).find(toks, language_group(language))
    if not found:
        return CrisisMatch(terms=[], scenario="", scenario_hits=0)
    terms, scenario, hits = _summarise(found)
    return CrisisMatch(terms=terms, scenario=scenario, scenario_hits=hits)
