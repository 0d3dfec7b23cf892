"""EMG-01 and EMG-02: what the cards offer. Which cards fire:
``rule_cases/electrodiagnostic.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, order, patient, run

TOPIC = "electrodiagnostic-testing"


def test_needle_emg_and_ncs_are_one_suggestion() -> None:
    record = patient(fact("leg_sensory_symptoms", 30, laterality="left"), fact("diabetes", 900))
    found = card(run(record), TOPIC)
    (suggestion,) = found["suggestions"]
    displays = [a["resource"]["code"]["text"] for a in suggestion["actions"]]
    assert len(displays) == 2  # needle EMG and NCS in one suggestion: never NCS alone
    assert any("electromyography" in d.lower() for d in displays)
    assert any("nerve conduction" in d.lower() for d in displays)


def test_emg_draft_without_leg_symptoms_is_advised_against() -> None:
    ref = "ServiceRequest/emg"
    record = patient(orders=(order("emg_ncs", "draft", ref=ref),), back_pain_days=100)
    found = card(run(record, "order-sign"), TOPIC)
    assert found["suggestions"][0]["actions"][0] == {
        "type": "delete", "resourceId": ref,
        "description": found["suggestions"][0]["actions"][0]["description"]}
