"""A fault in the clinical core, through the real app: the call is answered, the cards say
what was not read or not run, and the operators' metric moves (its alert is tested in
deploy/monitoring/alerts.test.yaml). The faults are injected: a working core has none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from cds_rules.rules import cauda_equina
from service import metrics
from service.schemas import validate_response
from tests.core_fault_support import fail_reader_on
from tests.helpers import (
    PATIENT_ID,
    condition,
    hook_body,
    make_test_app,
    required_prefetch,
)

NOW = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
SERVICE = "/cds-services/back-pain-patient-view"


@pytest.fixture()
def app() -> Flask:
    return make_test_app(clock=lambda: NOW)


def _cards(app: Flask, *conditions: dict[str, Any]) -> list[dict[str, Any]]:
    body = hook_body("patient-view", prefetch=required_prefetch(PATIENT_ID, *conditions))
    response = app.test_client().post(SERVICE, json=body)
    assert response.status_code == 200, response.get_json()
    assert validate_response(response.get_json()) == []
    return list(response.get_json()["cards"])


def _value(counter: Any) -> float:
    return float(counter._value.get())


def test_an_entry_a_reader_fails_on_is_counted_as_a_fault_not_as_invalid(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The metric's own reason moves, "invalid" does not, and the card says it and asks
    for the diagnosis to be checked (tests/unit/core/test_reader_faults.py has the cases)."""
    fail_reader_on(monkeypatch, "Condition", "ces-1")
    faults = metrics.RESOURCES_DROPPED.labels(reason="reader-fault")
    invalid = metrics.RESOURCES_DROPPED.labels(reason="invalid")
    calls = metrics.CORE_FAULT_CALLS.labels(hook="patient-view")
    before = _value(faults), _value(invalid), _value(calls)
    (card,) = _cards(app, condition("279039007", "Low back pain", onset="2024-01-20"),
                     condition("192970008", "Cauda equina syndrome", resource_id="ces-1",
                               onset="2024-01-28"),
                     condition("192970008", "Cauda equina syndrome", resource_id="ces-1",
                               onset="2024-01-29"))
    assert card["source"]["topic"]["code"] == "conservative-care"
    assert card["summary"].startswith("Check Cauda equina syndrome in the chart")
    assert ("2 entries not read because of a fault in the service (logged for its operators): "
            "Cauda equina syndrome (Condition entry)") in card["detail"]
    # two entries, one call: the page alert counts calls
    assert (_value(faults), _value(invalid), _value(calls)) == (before[0] + 2, before[1],
                                                                before[2] + 1)


def test_a_rule_that_raises_is_counted_and_its_card_asks_for_a_manual_assessment(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("injected")
    monkeypatch.setattr(cauda_equina, "new_or_worsening", crash)
    failures = metrics.RULE_FAILURES.labels(rule="CES-01")
    others = metrics.RULE_FAILURES.labels(rule="MAL-01")
    before = _value(failures), _value(others)
    cards = _cards(app, condition("279039007", "Low back pain", onset="2024-01-20"),
                   condition("267064002", "Retention of urine", onset="2024-01-31"))
    (ces,) = [c for c in cards if c["source"]["topic"]["code"] == "cauda-equina"]
    assert (ces["indicator"], ces["summary"]) == (
        "warning", "Red-flag check for cauda equina could not run: assess manually")
    assert all("rule CES-01 could not be evaluated" in c["detail"] for c in cards)
    assert (_value(failures), _value(others)) == (before[0] + 1, before[1])

