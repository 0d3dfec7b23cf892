"""What the catalogue and the PlanDefinitions say a rule reads is taken from the rule's
code; checked against what the rules actually do on every sample scenario in
``tests/contract/test_scenarios.py``."""

from __future__ import annotations

from cds_rules.catalogue import RULES
from service import rulebook


def test_cauda_equina_reads_its_signs_window_and_orders() -> None:
    found = rulebook.reads("CES-01")
    assert {"cauda_equina_syndrome", "urinary_retention", "saddle_anaesthesia"} <= \
        set(found.concepts)
    assert "cauda_equina_window_days" in found.settings
    assert "emergency-department" in found.orders


def test_every_rule_has_words_and_coded_rules_read_value_sets() -> None:
    for rule in RULES:
        assert rulebook.plain_words(rule)
        if not rule.id.startswith("UNCODED-"):  # those read free text, not codes
            found = rulebook.reads(rule.id)
            assert found.concepts or found.order_kinds, rule.id
