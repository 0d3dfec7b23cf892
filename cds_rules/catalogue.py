"""The rule registry: every rule of every family, in evaluation order.

Red-flag families come first (their findings gate the pathway rules), then the pathway
rules in PATHWAY.md order: repeat imaging before the other imaging rules, conservative
care last. :func:`rules_catalogue` is what ``backpain-cds rules`` prints.
"""

from __future__ import annotations

from typing import Any

from cds_rules.evidence import SOURCES
from cds_rules.model import Topic
from cds_rules.rules import (
    cauda_equina,
    conservative_care,
    cord_compression,
    electrodiagnostic,
    fracture,
    imaging,
    infection,
    inflammatory,
    malignancy,
    neurological_deficit,
    uncoded,
    visceral_vascular,
)
from cds_rules.rules.base import Rule

RULES: tuple[Rule, ...] = (
    *cauda_equina.RULES,
    *cord_compression.RULES,
    *neurological_deficit.RULES,
    *malignancy.RULES,
    *infection.RULES,
    *fracture.RULES,
    *inflammatory.RULES,
    *visceral_vascular.RULES,
    *uncoded.RULES,
    *imaging.RULES,
    *electrodiagnostic.RULES,
    *conservative_care.RULES,
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
TOPIC_ORDER: dict[Topic, int] = {topic: i for i, topic in enumerate(Topic)}


def _check_registry() -> None:
    """Fail at import on a duplicate id or an unknown evidence key (never at request time)."""
    if len(BY_ID) != len(RULES):
        raise ValueError("duplicate rule id in the catalogue")
    for rule in RULES:
        unknown = [key for key in rule.evidence if key not in SOURCES]
        if unknown:
            raise ValueError(f"rule {rule.id} names unknown evidence {unknown}")


_check_registry()


def rules_catalogue() -> list[dict[str, Any]]:
    """Every rule with id, version, what that version changed, topic, indicators, hooks and
    evidence (for the CLI; the full history is cds_rules/CHANGELOG.md)."""
    return [
        {
            "id": rule.id,
            "version": rule.version,
            "topic": rule.topic.value,
            "title": rule.title,
            "indicators": list(rule.indicators),
            "hooks": list(rule.hooks),
            "phase": rule.phase,
            "changes": rule.changes,
            "evidence": [
                {"key": key, "title": SOURCES[key].title, "version": SOURCES[key].version,
                 "strength": SOURCES[key].strength, "url": SOURCES[key].url}
                for key in rule.evidence
            ],
        }
        for rule in RULES
    ]
