"""CONS-01: the card's shape and the age note. Which cards fire (and the gates):
``rule_cases/conservative_care.yaml``."""

from __future__ import annotations

from cds_rules.cards import minimal_card
from tests.unit.core.rule_records import card, fact, patient, run


def test_no_physiotherapy_suggestion_while_acute() -> None:
    acute = card(run(patient(back_pain_days=5)), "conservative-care")
    assert "suggestions" not in acute and "selectionBehavior" not in acute


def test_known_age_has_no_age_note() -> None:
    result = run(patient(fact("urinary_retention", 1)))
    assert "Age not recorded" not in card(result, "cauda-equina")["detail"]


def test_minimal_card_still_notes_unknown_age() -> None:
    # the fallback card (used when the full card cannot be built) keeps the note
    record = patient(fact("urinary_retention", 1))
    record.birth_date = None
    findings = run(record).findings
    assert "Age not recorded: evaluated as an adult" in minimal_card(findings, record).detail
