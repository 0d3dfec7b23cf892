"""Golden test: every scenario's cards, topic and indicator, exactly as its expectation says.

The expectations in ``fhir_samples/scenarios`` were written from CLINICAL.md and PATHWAY.md
by someone other than the rules' author, so a mismatch means one of the two read the brief
differently: settle it against CLINICAL.md, never by copying the engine's output.
"""

from __future__ import annotations

import pytest

from cds_rules import evaluate
from fhir_samples import Scenario, load_all

SCENARIOS = load_all()


def _story(scenario: Scenario) -> str:
    return f"{scenario.id} ({scenario.hook}): {scenario.description}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_cards_match_the_expectation_exactly(scenario: Scenario) -> None:
    result = evaluate(scenario.hook_request(), scenario.now)
    got = [(card["source"]["topic"]["code"], card["indicator"]) for card in result.cards]

    assert set(got) == scenario.expected, _story(scenario)
    assert len(got) == len({topic for topic, _ in got}), "one card per topic"
    forbidden = {topic for topic, _ in got} & scenario.must_not_include
    assert not forbidden, f"near-miss fired {sorted(forbidden)}: {_story(scenario)}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_cards_are_ordered_most_urgent_first(scenario: Scenario) -> None:
    """PATHWAY 10: critical, then warning, then info."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    result = evaluate(scenario.hook_request(), scenario.now)
    ranks = [rank[card["indicator"]] for card in result.cards]
    assert ranks == sorted(ranks), _story(scenario)
    assert {card["indicator"] for card in result.cards} == {i for _, i in scenario.expected}


def _has_birth_date(scenario: Scenario) -> bool:
    patient = scenario.prefetch.get("patient")
    return isinstance(patient, dict) and "birthDate" in patient


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_unknown_age_is_disclosed_on_every_card(scenario: Scenario) -> None:
    """PATHWAY 1: no birth date -> evaluated as an adult, and every card says so."""
    result = evaluate(scenario.hook_request(), scenario.now)
    noted = ["Age not recorded: evaluated as an adult" in card["detail"]
             for card in result.cards]
    assert noted == [not _has_birth_date(scenario)] * len(result.cards), _story(scenario)


def test_a_scenario_without_birth_date_still_gets_its_emergency_card() -> None:
    unknown_age = [s for s in SCENARIOS if not _has_birth_date(s)]
    assert any(("cauda-equina", "critical") in s.expected for s in unknown_age)
