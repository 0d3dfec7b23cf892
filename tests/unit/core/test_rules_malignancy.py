"""MAL-01: history of cancer (any status), or two or more weaker risk factors."""

from __future__ import annotations

import pytest

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, obs, patient, run, suggested_orders, topics

TOPIC = "malignancy"


@pytest.mark.parametrize("concept", ["cancer", "bone_metastasis", "myeloma"])
@pytest.mark.parametrize("history", [True, False])
def test_cancer_any_status(concept: str, history: bool) -> None:
    assert topics(run(patient(fact(concept, 3000, history=history))))[TOPIC] == "warning"


def test_age_and_coded_weight_loss() -> None:
    assert topics(run(patient(fact("weight_loss", 20), age=55)))[TOPIC] == "warning"


def test_age_and_measured_weight_loss_discloses_thresholds() -> None:
    record = patient(obs("body_weight", 80, 150, "kg"), obs("body_weight", 74, 2, "kg"), age=55)
    detail = card(run(record), TOPIC)["detail"]
    assert "7.5 %" in detail
    assert "BACKPAIN_CDS_WEIGHT_LOSS_PERCENT` = 5" in detail


def test_small_weight_loss_does_not_count() -> None:
    record = patient(obs("body_weight", 80, 150, "kg"), obs("body_weight", 78, 2, "kg"), age=55)
    assert TOPIC not in topics(run(record))


def test_weight_loss_threshold_is_configurable() -> None:
    record = patient(obs("body_weight", 80, 150, "kg"), obs("body_weight", 78, 2, "kg"), age=55)
    assert TOPIC in topics(run(record, settings=RuleSettings(weight_loss_percent=2.0)))


def test_weight_loss_outside_window_does_not_count() -> None:
    record = patient(obs("body_weight", 80, 400, "kg"), obs("body_weight", 70, 300, "kg"),
                     obs("body_weight", 70, 2, "kg"), age=55)
    assert TOPIC not in topics(run(record))


def test_night_pain_and_weight_loss_under_50() -> None:
    record = patient(fact("night_pain", 5), fact("weight_loss", 5), age=40)
    assert topics(run(record))[TOPIC] == "warning"


def test_age_and_pain_not_improving() -> None:
    record = patient(obs("pain_severity", 6, 40), obs("pain_severity", 7, 1),
                     age=55, back_pain_days=40)
    assert topics(run(record))[TOPIC] == "warning"


def test_improving_pain_is_not_a_risk_factor() -> None:
    record = patient(obs("pain_severity", 8, 40), obs("pain_severity", 3, 1),
                     age=55, back_pain_days=40)
    assert TOPIC not in topics(run(record))


def test_age_alone_does_not_fire() -> None:
    assert TOPIC not in topics(run(patient(age=65)))


def test_myeloma_screen_from_sixty() -> None:
    older = suggested_orders(card(run(patient(fact("cancer", 900), age=62)), TOPIC))
    younger = suggested_orders(card(run(patient(fact("cancer", 900), age=52)), TOPIC))
    assert any("Myeloma" in t for t in older)
    assert not any("Myeloma" in t for t in younger)
    assert any("ESR" in t for t in younger) and any("CRP" in t for t in younger)
