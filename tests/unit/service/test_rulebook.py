"""What the catalogue and the PlanDefinitions say a rule reads is taken from the rule's
code; checked here against what the rules actually do on every sample scenario."""

from __future__ import annotations

import fhir_samples
from cds_rules import evaluate
from cds_rules.catalogue import RULES
from cds_rules.model import CONCEPTS
from service import rulebook


def test_every_fact_threshold_and_order_a_rule_used_is_in_what_it_reads() -> None:
    """Run every sample: each finding's facts (concepts), thresholds and suggested orders
    must be among the inputs the catalogue lists for its rule (no silent omission)."""
    seen = 0
    for scenario in fhir_samples.load_all():
        for finding in evaluate(scenario.hook_request(), scenario.now).findings:
            found = rulebook.reads(finding.rule_id)
            for fact in finding.facts:
                if fact.concept in CONCEPTS:  # not "age" or an order shown as a fact
                    assert fact.concept in found.concepts, (scenario.id, finding.rule_id,
                                                            fact.concept)
            for name, _value in finding.thresholds:
                assert name in found.settings, (scenario.id, finding.rule_id, name)
            for rec in finding.recommendations:
                assert rec.order in found.orders, (scenario.id, finding.rule_id, rec.order)
            seen += 1
    assert seen > 100


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
