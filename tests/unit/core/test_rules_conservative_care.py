"""CONS-01: the card's shape and the age note. Which cards fire (and the gates):
``rule_cases/conservative_care.yaml``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.cards import minimal_card
from cds_rules.rules.conservative_care import CONS_01
from tests.unit.core.local_entries import local_problem, with_back_pain
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


def test_the_reason_says_what_was_read() -> None:
    # CONS-01 2.5.0: the UNCODED-* rules read the names and values of conditions and
    # observations for some red flags, so "coded data only: uncoded or free-text entries
    # are not read" was no longer true; the new sentence must not claim more either (an
    # independent review: fever in a problem's words is not read).
    detail = card(run(patient(back_pain_days=5)), "conservative-care")["detail"]
    # CONS-01 2.18.0: a fever, weight loss or night pain in words is named (weak_words)
    assert ("No red flag recorded in coded entries in the last 14 days. Problem and "
            "observation wording is checked for a few red-flag phrases only (e.g. urinary "
            "retention, saddle anaesthesia, foot drop, cord compression, cancer, discitis, "
            "vertebral fracture, aortic aneurysm; fever, weight loss, night pain); other "
            "wording (trauma, drug use), notes, letters and reports are not read.") in detail
    assert "free-text entries are not read" not in detail
    assert f"_Rule CONS-01 v{CONS_01.version}._" in detail  # advice of the dated-ahead card


def _cards_with_problem(text: str) -> list[str]:
    result = evaluate(HookRequest(hook="patient-view", patient_id="p",
                                  resources=with_back_pain(local_problem(text))),
                      datetime(2026, 3, 1, 10, tzinfo=UTC))
    return [c.topic for c in result.cards]


def test_a_red_flag_in_words_stands_the_card_down() -> None:
    # what the reason promises: words naming one of those red flags give their own warning
    topics = _cards_with_problem("New urinary retention")
    assert "cauda-equina" in topics and "conservative-care" not in topics


@pytest.mark.parametrize("text", ["Urinary retention", "Saddle anaesthesia", "Foot drop",
                                  "Cord compression", "Cancer", "Discitis",
                                  "Vertebral fracture", "Aortic aneurysm"])
def test_each_example_phrase_is_read(text: str) -> None:
    # the reason's examples are phrases the words are checked for: each gives a warning
    assert "conservative-care" not in _cards_with_problem(text)


def _conservative_summary(text: str) -> str:
    result = evaluate(HookRequest(hook="patient-view", patient_id="p",
                                  resources=with_back_pain(local_problem(text))),
                      datetime(2026, 3, 1, 10, tzinfo=UTC))
    (only,) = result.cards
    assert only.topic == "conservative-care"
    return only.summary


@pytest.mark.parametrize(("text", "sign"), [("Fever 39.2 and rigors", "fever"),
                                            ("Weight loss", "weight loss"),
                                            ("Night pain", "night pain")])
def test_the_weak_red_flags_it_lists_are_named(text: str, sign: str) -> None:
    # ... and the weak red flags it lists (before CONS-01 2.18.0, a fever in a local
    # problem's words was not read: "No red flag recorded")
    assert f'{sign} in words ("{text}") recorded, no red-flag rule met' in (
        _conservative_summary(text))


def test_words_the_reason_says_are_not_searched_leave_the_card() -> None:
    # ... and what it warns of: a trauma or a drug use in a local problem's words is not
    # read
    assert "No red flag recorded" in _conservative_summary("Fell off a ladder, IVDU")
