"""End to end: every ``fhir_samples`` scenario POSTed as a real CDS Hooks call to its
service, with the service clock at the scenario's "now", answers exactly the expected
cards, and every card conforms to the response rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

import fhir_samples
from fhir_samples import Scenario
from service.schemas import validate_response
from tests.helpers import SERVICE_OF_HOOK, make_test_app

SCENARIOS = fhir_samples.load_all()


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, Flask]]:
    """One app per distinct "now" (the clock is fixed when the app is built)."""
    built: dict[str, Flask] = {}
    for scenario in SCENARIOS:
        key = scenario.now.isoformat()
        if key not in built:
            built[key] = make_test_app(clock=lambda now=scenario.now: now)
    yield built


def test_there_are_scenarios_for_every_hook() -> None:
    assert {s.hook for s in SCENARIOS} == set(SERVICE_OF_HOOK)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_answers_its_expected_cards(apps: dict[str, Flask], scenario: Scenario) -> None:
    client = apps[scenario.now.isoformat()].test_client()
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                           json=scenario.request_body())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert validate_response(body) == []
    got = {(card["source"]["topic"]["code"], card["indicator"]) for card in body["cards"]}
    assert got == scenario.expected
    assert not {topic for topic, _ in got} & scenario.must_not_include
