"""The learning period: how long a relative rule watches before it may alert.

A rule that compares the window with the watch's own history (a volume or negative spike) has no
history to compare with when the watch or the rule is new, and a brand's everyday chatter would
read as a spike against the empty baseline. So such a rule *learns* for its ``baseline_hours``
after it (or its watch, whichever is later) was created, and does not fire while it does. Absolute
rules (a high-reach negative mention, crisis-term hits) need no history and fire from the start.

This module is the one definition: the evaluators honour it and the overview shows it
("learning the baseline until …").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from monitoring.models import Rule, RuleKind

# Rules that compare the window with the watch's own history: they need a baseline first.
RELATIVE_KINDS = frozenset({RuleKind.VOLUME_SPIKE, RuleKind.NEGATIVE_SPIKE})


def is_relative(rule: Rule) -> bool:
    return rule.kind in RELATIVE_KINDS


def rule_learning_until(rule: Rule, watch_created_at: datetime | None) -> datetime | None:
    """When ``rule`` has learned its baseline, or None when it never learns (an absolute rule) or
    nothing says when it started (an unsaved rule of a watch whose creation is unknown)."""
    if not is_relative(rule):
        return None
    starts = [moment for moment in (rule.created_at, watch_created_at) if moment is not None]
    if not starts:
        return None
    return max(starts) + timedelta(hours=int(rule.baseline_hours))


def is_learning(rule: Rule, watch_created_at: datetime | None, now: datetime) -> bool:
    """True while ``rule`` is still learning its baseline at ``now`` (it must not fire then)."""
    until = rule_learning_until(rule, watch_created_at)
    return until is not None and now < until


def watch_learning_until(rules: Iterable[Rule], watch_created_at: datetime) -> datetime | None:
    """When every active relative rule of a watch has a full baseline: the latest of their ends."""
    ends = [
        until
        for rule in rules
        if rule.is_active and (until := rule_learning_until(rule, watch_created_at)) is not None
    ]
    return max(ends) if ends else None
