"""What a new watch starts with: one rule of every kind at the default thresholds.

These are the parameters ``default_rules_for`` gives a new watch, and the volume-spike ones are the
ones ``bench/detection_replay.py`` measures (it builds its rule with ``default_rules_for``). The
evaluators fall back to the same floors when a rule leaves a parameter unset.
"""

from __future__ import annotations

from typing import Any

from monitoring.models import Rule, RuleKind, Sensitivity, Severity, Watch

DEFAULT_MIN_EXPECTED_PER_HOUR = 1.0  # floor on the baseline rate: an empty history is not "zero"
DEFAULT_MIN_REACH = 100_000
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "kind": RuleKind.VOLUME_SPIKE,
        "name": "Volume spike",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 5,
        "cooldown_minutes": 60,
        "severity": Severity.SEV3,
        "params": {"method": "poisson", "min_expected_per_hour": DEFAULT_MIN_EXPECTED_PER_HOUR},
    },
    {
        "kind": RuleKind.NEGATIVE_SPIKE,
        "name": "Negative spike",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 5,
        "cooldown_minutes": 60,
        "severity": Severity.SEV3,
        "params": {"min_share": 0.5, "min_expected_per_hour": 0.5},
    },
    {
        "kind": RuleKind.HIGH_REACH_NEGATIVE,
        "name": "High-reach negative mention",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 1,
        "cooldown_minutes": 120,
        "severity": Severity.SEV3,
        "params": {"min_reach": DEFAULT_MIN_REACH},
    },
    {
        "kind": RuleKind.CRISIS_TERMS,
        "name": "Crisis-term hits",
        "window_minutes": 15,
        "baseline_hours": 24,
        "min_count": 5,
        "cooldown_minutes": 60,
        "severity": Severity.SEV3,
        "params": {},
    },
]

# Sensitivity → thresholds. "more" alerts earlier and more often, "fewer" only on clear breaches.


def default_rules_for(watch: Watch | None) -> list[Rule]:
    """Unsaved rules of every kind with the default parameters (the seed and the bench use these)."""
    return [
        Rule(watch=watch, sensitivity=Sensitivity.BALANCED, **{**spec, "params": dict(spec["params"])})
        for spec in DEFAULT_RULES
    ]
