"""What scoring reads from the database: the scenarios' trigger terms.

The rest of ``monitoring.scoring`` is pure (text in, scores out); ingest and the rescoring stage
read the terms here once per batch and hand them to ``score_many``.
"""

from __future__ import annotations

from playbooks.models import Scenario


def scenario_terms_load() -> dict[str, dict[str, list[str]]]:
    """Scenario type → language → trigger terms, read once per batch."""
    terms: dict[str, dict[str, list[str]]] = {}
    for scenario_type, trigger_terms in Scenario.objects.values_list("type", "trigger_terms"):
        if isinstance(trigger_terms, dict) and trigger_terms:
            terms[scenario_type] = {
                str(lang): [str(t) for t in values if str(t).strip()]
                for lang, values in trigger_terms.items()
                if isinstance(values, list)
            }
    return terms
