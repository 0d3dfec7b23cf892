"""No raw patient identifier or name is ever written to the database or to the logs.

Every sample scenario is sent through the real app (hook call, feedback on each card with
a comment naming the patient, as clinicians write, then the call again), on SQLite and
PostgreSQL. Then every column of every table, and everything logged, is searched for the
scenarios' patient ids, identifier values and names.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import MetaData, select

import fhir_samples
from cds_rules.model import OVERRIDE_REASON_SYSTEM
from service.migrations import upgrade
from tests.helpers import SERVICE_OF_HOOK, make_test_app
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import HASH_KEY, FakeClock


def identifiers(scenario: fhir_samples.Scenario) -> set[str]:
    """The patient's id, identifier values and name parts (the common family name of the
    synthetic patients, "Synthetic", is checked as part of the full name)."""
    patient = scenario.prefetch.get("patient") or {}
    found = {scenario.patient_id, *(i["value"] for i in patient.get("identifier", ())
                                    if i.get("value"))}
    for name in patient.get("name", ()):
        given = " ".join(name.get("given", ()))
        found.update(part for part in (given, f"{given} {name.get('family', '')}".strip())
                     if part)
    return found


def feedback_for(card: dict[str, Any], scenario: fhir_samples.Scenario) -> dict[str, Any]:
    patient = scenario.prefetch.get("patient") or {}
    name = " ".join(" ".join(n.get("given", ())) for n in patient.get("name", ()))
    entry: dict[str, Any] = {"card": card["uuid"], "outcomeTimestamp": scenario.now.isoformat()}
    if card.get("suggestions"):
        entry.update(outcome="accepted",
                     acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}])
    else:
        entry.update(outcome="overridden", overrideReason={
            "reason": {"system": OVERRIDE_REASON_SYSTEM, "code": "already-assessed"},
            "userComment": f"{name} ({scenario.patient_id}) seen in clinic today"})
    return entry


def test_no_patient_identifier_reaches_the_database_or_the_logs(
        database_url: str, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    app = make_test_app(clock=clock, database_url=database_url, patient_hash_key=HASH_KEY)
    store = app.extensions["backpain"]["store"]
    upgrade(store.engine)
    client = app.test_client()
    scenarios = fhir_samples.load_all()
    secrets: set[str] = set()
    cards_seen = 0
    for scenario in scenarios:
        secrets |= identifiers(scenario)
        clock.now = scenario.now
        service = SERVICE_OF_HOOK[scenario.hook]
        response = client.post(f"/cds-services/{service}", json=scenario.request_body())
        assert response.status_code == 200, scenario.id
        cards = response.get_json()["cards"]
        cards_seen += len(cards)
        if cards:
            answer = client.post(f"/cds-services/{service}/feedback", json={
                "feedback": [feedback_for(card, scenario) for card in cards]})
            assert answer.status_code == 200, (scenario.id, answer.get_json())
        assert client.post(f"/cds-services/{service}",
                           json=scenario.request_body()).status_code == 200
    assert cards_seen > len(scenarios)  # the scenarios did exercise the memory

    stored = dump_database(store.engine)
    assert len(stored) > 1000
    logged = caplog.text + "".join(capfd.readouterr())
    logged += "".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    leaks = sorted(s for s in secrets if s in stored or s in logged)
    assert leaks == []


def dump_database(engine: Any) -> str:
    """Every value of every row of every table, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.extend(json.dumps(value, default=str) for value in row)
    return "\n".join(parts)
