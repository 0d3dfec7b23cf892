"""EMG-01 (suggest needle EMG + NCS together) and EMG-02 (advise against)."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, order, patient, run, topics

TOPIC = "electrodiagnostic-testing"


def test_persistent_leg_symptoms_with_uncertain_cause() -> None:
    record = patient(fact("leg_sensory_symptoms", 30, laterality="left"), fact("diabetes", 900))
    found = card(run(record), TOPIC)
    assert found["indicator"] == "info"
    (suggestion,) = found["suggestions"]
    displays = [a["resource"]["code"]["text"] for a in suggestion["actions"]]
    assert len(displays) == 2  # needle EMG and NCS in one suggestion: never NCS alone
    assert any("electromyography" in d.lower() for d in displays)
    assert any("nerve conduction" in d.lower() for d in displays)
    assert "BACKPAIN_CDS_EMG_MIN_LEG_SYMPTOM_DAYS` = 21" in found["detail"]


def test_too_early() -> None:
    record = patient(fact("leg_pain", 10, laterality="left"), fact("peripheral_neuropathy", 400))
    assert TOPIC not in topics(run(record))


def test_certain_diagnosis_needs_no_emg() -> None:
    assert TOPIC not in topics(run(patient(fact("radiculopathy", 40, laterality="left"))))


def test_recent_emg_done() -> None:
    record = patient(fact("radiculopathy", 60), fact("plexopathy", 50),
                     orders=(order("emg_ncs", "completed", 30),))
    assert TOPIC not in topics(run(record))


def test_emg_draft_without_leg_symptoms_is_advised_against() -> None:
    ref = "ServiceRequest/emg"
    record = patient(orders=(order("emg_ncs", "draft", ref=ref),), back_pain_days=100)
    found = card(run(record, "order-sign"), TOPIC)
    assert found["suggestions"][0]["actions"][0] == {
        "type": "delete", "resourceId": ref,
        "description": found["suggestions"][0]["actions"][0]["description"]}


def test_emg_draft_with_leg_symptoms_is_not_advised_against() -> None:
    record = patient(fact("radiculopathy", 40, laterality="left"),
                     orders=(order("emg_ncs", "draft", ref="ServiceRequest/emg"),))
    assert TOPIC not in topics(run(record, "order-sign"))


def test_emg_draft_alone_is_back_pain_context() -> None:
    record = patient(orders=(order("emg_ncs", "draft", ref="ServiceRequest/emg"),),
                     back_pain_days=None)
    assert topics(run(record, "order-sign")) == {TOPIC: "info"}
