"""NEURO-01: what the card says and offers. Which cards fire:
``rule_cases/neurological_deficit.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, patient, run

TOPIC = "progressive-neurological-deficit"


def test_old_foot_drop_is_not_mri_within_24_hours() -> None:
    """Clinical review 2026 (finding 13): a foot drop from 2015 is not severe at every
    visit: 'confirm it has been assessed', no urgent MRI offered."""
    found = card(run(patient(fact("foot_drop", 3900, laterality="left"))), TOPIC)
    assert "24 hours" not in found["summary"]
    assert not found.get("suggestions")
