"""CORD-01: myelopathic signs, widespread weakness, thoracic pain with neurology, a
myelopathy diagnosis, and cancer history with any new neurological symptom (NG234)."""

from __future__ import annotations

import pytest

from tests.unit.core.rule_records import card, fact, grade, order, patient, run, topics

TOPIC = "spinal-cord-compression"


@pytest.mark.parametrize("sign", ["gait_disturbance", "hyperreflexia"])
def test_new_myelopathic_sign(sign: str) -> None:
    assert topics(run(patient(fact(sign, 5))))[TOPIC] == "critical"


@pytest.mark.parametrize("sign", ["gait_disturbance", "hyperreflexia"])
def test_old_stable_sign_is_not_critical_but_asks_for_assessment(sign: str) -> None:
    result = run(patient(fact(sign, 120)))
    assert topics(result)[TOPIC] == "warning"
    assert "Confirm it has been assessed" in card(result, TOPIC)["summary"]


@pytest.mark.parametrize("sign", ["gait_disturbance", "hyperreflexia"])
def test_old_stable_sign_imaged_since_does_not_fire(sign: str) -> None:
    record = patient(fact(sign, 120), orders=(order("spine_mri", "completed", 100),))
    assert TOPIC not in topics(run(record))


def test_new_myelopathy_diagnosis() -> None:
    assert topics(run(patient(fact("myelopathy", 5))))[TOPIC] == "critical"


def test_old_myelopathy_diagnosis_is_history() -> None:
    assert topics(run(patient(fact("myelopathy", 300))))[TOPIC] == "warning"
    imaged = patient(fact("myelopathy", 300), orders=(order("spine_mri", "completed", 200),))
    assert TOPIC not in topics(run(imaged))


def test_weakness_in_both_legs() -> None:
    record = patient(fact("muscle_weakness", 3, laterality="bilateral"))
    assert topics(run(record))[TOPIC] == "critical"


def test_weakness_at_several_levels() -> None:
    record = patient(grade(3, 2, muscle="hip-flexion"), grade(4, 2, muscle="ankle-dorsiflexion"))
    assert topics(run(record))[TOPIC] == "critical"


def test_single_level_unilateral_weakness_is_not_cord() -> None:
    assert TOPIC not in topics(run(patient(grade(4, 2))))


def test_thoracic_pain_with_neurological_sign() -> None:
    record = patient(fact("thoracic_back_pain", 5), fact("leg_sensory_symptoms", 3,
                                                         laterality="left"))
    assert topics(run(record))[TOPIC] == "critical"


def test_thoracic_pain_alone_is_not_cord() -> None:
    assert TOPIC not in topics(run(patient(fact("thoracic_back_pain", 5))))


@pytest.mark.parametrize("cancer", ["cancer", "bone_metastasis", "myeloma"])
def test_cancer_history_with_new_radicular_pain(cancer: str) -> None:
    record = patient(fact(cancer, 2000, history=True), fact("leg_pain", 4, laterality="left"))
    result = run(record)
    assert topics(result)[TOPIC] == "critical"
    assert "NG234" in card(result, TOPIC)["detail"]


def test_cancer_history_with_old_sciatica_is_not_cord() -> None:
    record = patient(fact("cancer", 2000, history=True),
                     fact("radiculopathy", 100, laterality="left"))
    result = topics(run(record))
    assert TOPIC not in result
    assert result["malignancy"] == "warning"


def test_suggests_whole_spine_mri() -> None:
    labels = [s["label"] for s in card(run(patient(fact("myelopathy", 3))), TOPIC)["suggestions"]]
    assert any("whole spine" in label for label in labels)
