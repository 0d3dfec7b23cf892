"""INF-01: what the card offers. Which cards fire: ``rule_cases/infection.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, patient, run

TOPIC = "infection"


def test_suggests_labs_and_cultures() -> None:
    labels = [s["label"] for s in card(run(patient(fact("spinal_infection", 5))),
                                       TOPIC)["suggestions"]]
    assert any("CRP" in x for x in labels) and any("ESR" in x for x in labels)
    assert any("Blood cultures" in x for x in labels)
