"""VV-01 / VV-02: aorta, heart and lungs, kidneys."""

from __future__ import annotations

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, obs, patient, run, topics

TOPIC = "visceral-or-vascular"


def test_aneurysm_with_new_back_pain() -> None:
    record = patient(fact("aortic_aneurysm", 800), back_pain_days=3)
    assert topics(run(record))[TOPIC] == "critical"


def test_aneurysm_with_old_mild_back_pain_does_not_fire() -> None:
    assert TOPIC not in topics(run(patient(fact("aortic_aneurysm", 800), back_pain_days=200)))


def test_aneurysm_with_severe_pain_score() -> None:
    record = patient(fact("aortic_aneurysm", 800), obs("pain_severity", 8, 1),
                     back_pain_days=200)
    result = run(record)
    assert topics(result)[TOPIC] == "critical"
    assert "BACKPAIN_CDS_SEVERE_PAIN_SCORE` = 7" in card(result, TOPIC)["detail"]
    assert TOPIC not in topics(run(record, settings=RuleSettings(severe_pain_score=9)))


def test_dissection_with_back_pain() -> None:
    assert topics(run(patient(fact("aortic_dissection", 1))))[TOPIC] == "critical"


def test_chest_pain_with_thoracic_back_pain() -> None:
    record = patient(fact("thoracic_back_pain", 2), fact("chest_pain", 1))
    assert topics(run(record))[TOPIC] == "critical"


def test_breathlessness_with_thoracic_back_pain() -> None:
    record = patient(fact("thoracic_back_pain", 2), fact("dyspnoea", 1))
    assert topics(run(record))[TOPIC] == "critical"


def test_chest_pain_with_low_back_pain_only_does_not_fire() -> None:
    assert TOPIC not in topics(run(patient(fact("chest_pain", 1))))


def test_renal_causes_warn() -> None:
    for concept in ("renal_stone_or_colic", "pyelonephritis", "haematuria"):
        assert topics(run(patient(fact(concept, 2))))[TOPIC] == "warning", concept


def test_renal_cause_with_fever_is_critical() -> None:
    record = patient(fact("renal_stone_or_colic", 2), obs("body_temperature", 38.6, 1, "Cel"))
    assert topics(run(record))[TOPIC] == "critical"
