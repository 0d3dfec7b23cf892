"""MAL-01: what the card offers. Which cards fire: ``rule_cases/malignancy.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, patient, run, suggested_orders

TOPIC = "malignancy"


def test_myeloma_screen_from_sixty() -> None:
    older = suggested_orders(card(run(patient(fact("cancer", 900), age=62)), TOPIC))
    younger = suggested_orders(card(run(patient(fact("cancer", 900), age=52)), TOPIC))
    assert any("Myeloma" in t for t in older)
    assert not any("Myeloma" in t for t in younger)
    assert any("ESR" in t for t in younger) and any("CRP" in t for t in younger)
