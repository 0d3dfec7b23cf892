"""Every ``fhir_samples`` scenario, evaluated once by the core and answered once over HTTP,
judged against its expectation, the safety principles and a strict EHR.

The expectations in ``fhir_samples/scenarios`` were written from CLINICAL.md and PATHWAY.md
by someone other than the rules' author, so a mismatch means one of the two read the brief
differently: settle it against CLINICAL.md, never by copying the engine's output.

Per scenario, three checks share one evaluation and one answer (cached per process; the
three are adjacent, ``test_scenario[<id>-core|fallback|http]``, so they usually run on
the same xdist worker):

- ``core``: the cards are exactly the expected topic/indicator pairs, one per
  topic, no near-miss, most urgent first (PATHWAY 10), an unknown age disclosed on every
  card (PATHWAY 1), every card names its source resources and evidence, every rule reads
  only what the catalogue says it reads (``service.rulebook``), and a strict EHR accepts
  the cards as the core built them (before the shell could drop a broken one).
- ``fallback``: the cards sent when something breaks (the minimal card of each
  topic, the "could not run" card of each red-flag rule) pass the strict checks too.
- ``http``: POSTed as a real CDS Hooks call with the service clock at the
  scenario's "now": 200, a valid response, the expected cards, every card the core built
  (a fresh app has no snoozes), and a strict EHR accepts the answer.

The scenario files themselves are checked in ``test_samples_wellformed.py``; fetching
instead of prefetching in ``tests/integration/test_fetch_equivalence.py``; byte-for-byte
stability in ``tests/integration/test_snapshots.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import pytest
from flask import Flask

import fhir_samples
from cds_rules import evaluate, to_json
from cds_rules.call import Evaluation
from cds_rules.cards import build_card, group_by_topic, minimal_card
from cds_rules.catalogue import RULES
from cds_rules.concepts import CONCEPTS
from cds_rules.engine import could_not_run, run_rules
from cds_rules.model import RED_FLAG_TOPICS
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS
from fhir_samples import Scenario
from service import rulebook
from service.schemas import validate_response
from tests.helpers import SERVICE_OF_HOOK, make_test_app
from tests.strict_client import INDICATORS, strict_errors

SCENARIOS = fhir_samples.load_all()
BY_ID = {s.id: s for s in SCENARIOS}
RANK = {"critical": 0, "warning": 1, "info": 2}
AGE_NOTE = "Age not recorded: evaluated as an adult"


@cache
def core(scenario_id: str) -> Evaluation:
    scenario = BY_ID[scenario_id]
    return evaluate(scenario.hook_request(), scenario.now)


@cache
def _app(now: datetime) -> Flask:
    """One app per distinct "now" (the clock is fixed when the app is built)."""
    return make_test_app(clock=_fixed_clock(now))


def _fixed_clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now


@cache
def answer(scenario_id: str) -> tuple[int, Any]:
    """The scenario's HTTP status and body."""
    scenario = BY_ID[scenario_id]
    response = _app(scenario.now).test_client().post(
        f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}", json=scenario.request_body())
    return response.status_code, response.get_json()


def _story(scenario: Scenario) -> str:
    return f"{scenario.id} ({scenario.hook}): {scenario.description}"


def _has_birth_date(scenario: Scenario) -> bool:
    patient = scenario.prefetch.get("patient")
    return isinstance(patient, dict) and "birthDate" in patient


def _pairs(cards: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(card["source"]["topic"]["code"], card["indicator"]) for card in cards]


def check_core(scenario: Scenario) -> None:
    result = core(scenario.id)
    cards = to_json(result.cards)  # as the wire carries them
    got = _pairs(cards)
    topics = [topic for topic, _ in got]
    assert set(got) == scenario.expected, _story(scenario)
    assert len(got) == len(set(topics)), "one card per topic"
    forbidden = set(topics) & scenario.must_not_include
    assert not forbidden, f"near-miss fired {sorted(forbidden)}: {_story(scenario)}"
    if scenario.id.startswith("cc-"):  # uncomplicated back pain is quiet
        assert got == [("conservative-care", "info")]

    ranks = [RANK[indicator] for _, indicator in got]  # PATHWAY 10
    assert ranks == sorted(ranks), _story(scenario)
    assert {indicator for _, indicator in got} == {i for _, i in scenario.expected}

    noted = [AGE_NOTE in card["detail"] for card in cards]  # PATHWAY 1
    assert noted == [not _has_birth_date(scenario)] * len(cards), _story(scenario)

    for card in cards:
        topic = card["source"]["topic"]["code"]
        for finding in (f for f in result.findings if f.topic.value == topic):
            for fact in finding.facts:
                assert f"`{fact.source}`" in card["detail"]
        assert "**Evidence**" in card["detail"] and card["links"]

    _check_reads(scenario, result)

    body: dict[str, Any] = {"cards": cards}
    if result.system_actions:
        body["systemActions"] = to_json(result.system_actions)
    assert strict_errors(body, scenario.context) == []


def _check_reads(scenario: Scenario, result: Evaluation) -> None:
    """Each finding's facts (concepts), thresholds and suggested orders are among the
    inputs the catalogue lists for its rule (no silent omission in the rulebook)."""
    for finding in result.findings:
        found = rulebook.reads(finding.rule_id)
        for fact in finding.facts:
            if fact.concept in CONCEPTS:  # not "age" or an order shown as a fact
                assert fact.concept in found.concepts, (scenario.id, finding.rule_id,
                                                        fact.concept)
        for name, _value in finding.thresholds:
            assert name in found.settings, (scenario.id, finding.rule_id, name)
        for rec in finding.recommendations:
            assert rec.order in found.orders, (scenario.id, finding.rule_id, rec.order)


def check_fallback(scenario: Scenario) -> None:
    """The minimal card (a full card could not be built) for every topic the scenario
    fires, and the "red-flag check could not run" card of every red-flag rule, built on
    this scenario's record."""
    record = build_record(scenario.hook_request(), scenario.now, DEFAULT_SETTINGS)
    findings = run_rules(record, scenario.hook, DEFAULT_SETTINGS,
                         tuple(scenario.context.get("selections") or ()))
    cards = [minimal_card(group, record) for group in group_by_topic(findings)]
    cards += [build_card([could_not_run(rule)], record, DEFAULT_SETTINGS)
              for rule in RULES if rule.topic in RED_FLAG_TOPICS]
    assert strict_errors({"cards": to_json(cards)}, scenario.context) == []


def check_http(scenario: Scenario) -> None:
    status, body = answer(scenario.id)
    assert status == 200, body
    assert validate_response(body) == []
    got = _pairs(body["cards"])
    assert set(got) == scenario.expected, _story(scenario)
    assert not {topic for topic, _ in got} & scenario.must_not_include
    # nothing is lost between the core and the wire (no snoozes in a fresh app)
    assert [topic for topic, _ in got] == [t for t, _ in _pairs(to_json(core(scenario.id).cards))]
    assert strict_errors(body, scenario.context) == []


CHECKS: dict[str, Callable[[Scenario], None]] = {
    "core": check_core, "fallback": check_fallback, "http": check_http}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
@pytest.mark.parametrize("check", CHECKS)
def test_scenario(scenario: Scenario, check: str) -> None:
    CHECKS[check](scenario)


def test_there_are_scenarios_for_every_hook() -> None:
    assert {s.hook for s in SCENARIOS} == set(SERVICE_OF_HOOK)


def test_a_scenario_without_birth_date_still_gets_its_emergency_card() -> None:
    unknown_age = [s for s in SCENARIOS if not _has_birth_date(s)]
    assert any(("cauda-equina", "critical") in s.expected for s in unknown_age)


def test_the_scenarios_give_the_rulebook_check_enough_findings() -> None:
    assert sum(len(core(s.id).findings) for s in SCENARIOS) > 100


def test_card_uuids_are_unique_across_every_answer() -> None:
    """Feedback names a card by uuid alone: two answers must never share one."""
    uuids = [item["uuid"] for s in SCENARIOS for card in answer(s.id)[1]["cards"]
             for item in (card, *card.get("suggestions", ()))]
    assert uuids and len(uuids) == len(set(uuids))


def test_scenarios_exercise_every_checked_feature() -> None:
    """The strict checks are not vacuous: the answers contain every part they check."""
    cards = [card for s in SCENARIOS for card in answer(s.id)[1]["cards"]]
    actions = [a for card in cards for s in card.get("suggestions", ())
               for a in s.get("actions", ())]
    assert {c["indicator"] for c in cards} == set(INDICATORS)
    assert any(c.get("links") for c in cards)
    assert any(c.get("overrideReasons") for c in cards)
    assert any(s.get("isRecommended") for c in cards for s in c.get("suggestions", ()))
    assert {a["type"] for a in actions} >= {"create", "delete"}
