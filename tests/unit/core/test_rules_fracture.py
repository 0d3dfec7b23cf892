"""FRAC-01: trauma, age, long-term steroids, osteoporosis, prior fragility fracture."""

from __future__ import annotations

import pytest

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, patient, run, suggested_orders, topics

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


def test_age_alone_is_info() -> None:
    """Downie 2013 / ACP 2011: age alone is a weak flag (clinical review 2026)."""
    result = run(patient(age=71))
    assert topics(result) == {TOPIC: "info"}
    assert card(result, TOPIC)["summary"].startswith("Consider an X-ray")
    detail = card(result, TOPIC)["detail"]
    assert "BACKPAIN_CDS_FRACTURE_AGE` = 70" in detail
    assert "`Patient/pat-1`" in detail


def test_age_with_another_factor_is_a_warning() -> None:
    assert topics(run(patient(fact("significant_trauma", 300), age=75)))[TOPIC] == "warning"
    assert topics(run(patient(fact("weight_loss", 10), age=75)))[TOPIC] == "info"


def test_steroids_three_months_still_a_warning_near_miss() -> None:
    steroid = fact("systemic_corticosteroid", 91, resource_type="MedicationStatement")
    assert topics(run(patient(steroid)))[TOPIC] == "warning"
    short = fact("systemic_corticosteroid", 80, resource_type="MedicationStatement")
    assert TOPIC not in topics(run(patient(short)))


def test_old_cord_injury_fracture_is_not_major() -> None:
    old = fact("fragility_fracture", 800, code="1734006")
    assert topics(run(patient(old)))[TOPIC] == "warning"
    new = fact("fragility_fracture", 3, code="1734006")
    assert topics(run(patient(new)))[TOPIC] == "critical"


def test_old_trauma_deficit_is_not_major() -> None:
    record = patient(fact("significant_trauma", 2), fact("leg_sensory_symptoms", 400,
                                                         laterality="left"))
    assert topics(run(record))[TOPIC] == "warning"


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
