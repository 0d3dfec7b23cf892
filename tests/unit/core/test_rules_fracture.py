"""FRAC-01: what the card offers. Which cards fire: ``rule_cases/fracture.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, patient, run

TOPIC = "fracture"


def test_trauma_with_neurological_deficit_suggests_the_emergency_department() -> None:
    record = patient(fact("significant_trauma", 1), fact("leg_sensory_symptoms", 1,
                                                         laterality="left"))
    result = run(record)
    assert any("emergency" in s["label"].lower() for s in card(result, TOPIC)["suggestions"])
