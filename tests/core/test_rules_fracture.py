"""FRAC-01: trauma, age, long-term steroids, osteoporosis, prior fragility fracture."""

from __future__ import annotations

import pytest

from cds_rules.settings import RuleSettings
from tests.core.rule_records import card, fact, patient, run, suggested_orders, topics

TOPIC = "fracture"


@pytest.mark.parametrize("risk", [
    fact("significant_trauma", 3),
    fact("long_term_steroids", 500),
    fact("systemic_corticosteroid", 200, resource_type="MedicationStatement"),
    fact("osteoporosis", 900),
    fact("osteoporosis", 900, history=True),
    fact("fragility_fracture", 1500, history=True),
], ids=lambda f: f"{f.concept}-{f.status.value}")
def test_each_risk_factor(risk) -> None:
    assert topics(run(patient(risk)))[TOPIC] == "warning"


def test_age_over_threshold() -> None:
    result = run(patient(age=71))
    assert topics(result)[TOPIC] == "warning"
    detail = card(result, TOPIC)["detail"]
    assert "BACKPAIN_CDS_FRACTURE_AGE` = 70" in detail
    assert "`Patient/pat-1`" in detail


def test_age_at_threshold_does_not_fire() -> None:
    assert TOPIC not in topics(run(patient(age=70)))


@pytest.mark.parametrize(("sex", "age", "fires"), [
    ("male", 66, True), ("male", 65, False), ("female", 74, False), ("female", 76, True),
])
def test_acp_sex_specific_ages(sex: str, age: int, fires: bool) -> None:
    settings = RuleSettings(fracture_age_mode="acp")
    assert (TOPIC in topics(run(patient(age=age, sex=sex), settings=settings))) is fires


def test_trauma_with_neurological_deficit_is_major() -> None:
    record = patient(fact("significant_trauma", 1), fact("leg_sensory_symptoms", 1,
                                                         laterality="left"))
    result = run(record)
    assert topics(result)[TOPIC] == "critical"
    assert any("emergency" in s["label"].lower() for s in card(result, TOPIC)["suggestions"])


def test_xray_of_the_painful_segment() -> None:
    lumbar = suggested_orders(card(run(patient(fact("osteoporosis", 900))), TOPIC))
    thoracic = suggested_orders(card(run(patient(fact("osteoporosis", 900),
                                                 fact("thoracic_back_pain", 3),
                                                 back_pain_days=None)), TOPIC))
    assert "X-ray lumbar spine" in lumbar
    assert "X-ray thoracic spine" in thoracic
    assert any("DXA" in t for t in lumbar)
