"""CONS-01 and the gates: uncomplicated back pain gets exactly one info card."""

from __future__ import annotations

import pytest

from cds_rules.cards import minimal_card
from cds_rules.model import Topic
from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, patient, run, suggested_orders, topics


@pytest.mark.parametrize("hook", ["patient-view", "encounter-start"])
@pytest.mark.parametrize("back_pain_days", [5, 400])
def test_uncomplicated_back_pain_one_info_card(hook: str, back_pain_days: int) -> None:
    result = run(patient(back_pain_days=back_pain_days), hook)
    assert topics(result) == {"conservative-care": "info"}


def test_physiotherapy_only_when_persistent() -> None:
    acute = card(run(patient(back_pain_days=5)), "conservative-care")
    chronic = card(run(patient(back_pain_days=100)), "conservative-care")
    assert "suggestions" not in acute and "selectionBehavior" not in acute
    assert suggested_orders(chronic) == ["Physiotherapy / exercise programme referral"]


def test_not_on_order_hooks() -> None:
    assert topics(run(patient(), "order-sign")) == {}


def test_no_back_pain_no_cards() -> None:
    assert run(patient(fact("fever", 1), back_pain_days=None)).cards == []


def test_history_back_pain_is_not_context() -> None:
    record = patient(fact("low_back_pain", 900, history=True), back_pain_days=None)
    assert run(record).cards == []


@pytest.mark.parametrize("age", [17, 10])
def test_children_get_no_cards(age: int) -> None:
    assert run(patient(fact("urinary_retention", 1), age=age)).cards == []


def test_no_birth_date_is_evaluated_as_an_adult() -> None:
    # PATHWAY 1: a missing birth date must not silence an emergency
    record = patient(fact("urinary_retention", 1), fact("osteoporosis", 900))
    record.birth_date = None
    result = run(record)
    assert topics(result) == {"cauda-equina": "critical", "fracture": "warning"}
    for shown in result.cards:
        assert "Age not recorded: evaluated as an adult" in shown["detail"]


def test_no_birth_date_uncomplicated_back_pain_gets_conservative_care() -> None:
    record = patient()
    record.birth_date = None
    result = run(record)
    assert topics(result) == {"conservative-care": "info"}
    assert "Age not recorded: evaluated as an adult" in result.cards[0]["detail"]


def test_known_age_has_no_age_note() -> None:
    result = run(patient(fact("urinary_retention", 1)))
    assert "Age not recorded" not in card(result, "cauda-equina")["detail"]


def test_minimal_card_still_notes_unknown_age() -> None:
    # the fallback card (used when the full card cannot be built) keeps the note
    record = patient(fact("urinary_retention", 1))
    record.birth_date = None
    findings = run(record).findings
    assert "Age not recorded: evaluated as an adult" in minimal_card(findings, record)["detail"]


@pytest.mark.parametrize("age", [17, 0])
def test_known_minor_gets_no_cards_even_with_cauda_equina(age: int) -> None:
    # CLINICAL.md "Who and when": a recorded age under 18 is out of scope
    assert run(patient(fact("cauda_equina_syndrome", 1), age=age)).cards == []


def test_red_flag_replaces_conservative_care() -> None:
    assert "conservative-care" not in topics(run(patient(fact("osteoporosis", 900))))


def test_switched_off_red_flag_family_still_quiets_conservative_care() -> None:
    # PATHWAY 4: the site hides the fracture card, but the red flag is still there
    quiet = RuleSettings(disabled_topics=frozenset({Topic.FRACTURE}))
    assert run(patient(fact("osteoporosis", 900)), settings=quiet).cards == []
