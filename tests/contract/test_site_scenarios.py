"""Scenarios coded in a site's own codes (fhir_samples/site_scenarios): through the real app
started with the scenario's site code file (BACKPAIN_CDS_SITE_CODES), the exact expected
cards; started without it, the exact cards the scenario states for that case, so each
scenario shows what the site file changes. Resources must be valid FHIR R4 as in the other
scenarios."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

import fhir_samples
from cds_rules import apply_site_codes
from fhir_samples import Scenario
from tests.helpers import SERVICE_OF_HOOK, make_test_app

SCENARIOS = fhir_samples.load_site_scenarios()


@pytest.fixture(autouse=True)
def _shipped_value_sets_after() -> Iterator[None]:
    """Site codes are process-wide (applied at start-up): leave the shipped value sets."""
    yield
    apply_site_codes([])


def cards_of(scenario: Scenario, site_codes: Path | None) -> set[tuple[str, str]]:
    settings: dict[str, Any] = {"site_codes": str(site_codes)} if site_codes else {}
    apply_site_codes([])
    app = make_test_app(clock=lambda: scenario.now, **settings)
    try:
        response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                                          json=scenario.request_body())
    finally:
        app.extensions["backpain"]["store"].dispose()
    assert response.status_code == 200, response.get_data(as_text=True)
    return {(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]}


def test_there_are_site_scenarios_and_a_near_miss() -> None:
    ids = [s.id for s in SCENARIOS]
    assert len(ids) >= 3
    assert any(i.startswith("site-nm-") for i in ids)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_with_the_site_file_the_cards_are_exactly_the_expected(scenario: Scenario) -> None:
    got = cards_of(scenario, scenario.site_codes)
    assert got == set(scenario.expected)
    assert not {topic for topic, _ in got} & scenario.must_not_include


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_without_the_site_file_the_cards_are_those_stated(scenario: Scenario) -> None:
    assert scenario.expected_without_site_codes is not None
    assert cards_of(scenario, None) == set(scenario.expected_without_site_codes)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_resource_is_valid_r4_and_about_the_scenario_patient(scenario: Scenario) -> None:
    for resource in scenario.patient_resources() + scenario.draft_orders():
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        subject = (resource.get("subject") or {}).get("reference")
        assert subject in (None, f"Patient/{scenario.patient_id}"), resource["id"]
