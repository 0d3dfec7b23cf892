"""CORD-01: what the card offers. Which cards fire: ``rule_cases/cord_compression.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, patient, run

TOPIC = "spinal-cord-compression"


def test_suggests_whole_spine_mri() -> None:
    labels = [s["label"] for s in card(run(patient(fact("myelopathy", 3))), TOPIC)["suggestions"]]
    assert any("whole spine" in label for label in labels)
