"""CES-01: every cauda equina trigger of CLINICAL.md, and its near-misses."""

from __future__ import annotations

import pytest

from cds_rules.settings import RuleSettings
from tests.unit.core.rule_records import card, fact, grade, order, patient, run, topics

CES_SIGNS = ["urinary_retention", "urinary_incontinence", "faecal_incontinence",
             "saddle_anaesthesia", "loss_of_rectal_sensation"]


@pytest.mark.parametrize("sign", CES_SIGNS)
def test_each_new_sign_is_critical(sign: str) -> None:
    result = run(patient(fact(sign, 2)))
    assert topics(result)["cauda-equina"] == "critical"
    assert result.cards[0]["source"]["topic"]["code"] == "cauda-equina"


@pytest.mark.parametrize("sign", CES_SIGNS)
def test_old_sign_is_not_critical_but_asks_for_assessment(sign: str) -> None:
    """Clinical review 2026: an active sign past the window, never imaged, is a warning."""
    result = run(patient(fact(sign, 30)))
    assert topics(result) == {"cauda-equina": "warning"}
    assert "Confirm it has been assessed" in card(result, "cauda-equina")["summary"]


@pytest.mark.parametrize("sign", CES_SIGNS)
def test_old_sign_with_mri_since_is_quiet(sign: str) -> None:
    record = patient(fact(sign, 30), orders=(order("spine_mri", "completed", 20),))
    assert "cauda-equina" not in topics(run(record))


@pytest.mark.parametrize("sign", CES_SIGNS)
def test_old_sign_as_observation_is_a_finding_of_its_day(sign: str) -> None:
    record = patient(fact(sign, 30, resource_type="Observation"))
    assert "cauda-equina" not in topics(run(record))


@pytest.mark.parametrize("sign", CES_SIGNS)
def test_old_sign_coded_worsening_fires(sign: str) -> None:
    assert topics(run(patient(fact(sign, 60, worsening=True))))["cauda-equina"] == "critical"


@pytest.mark.parametrize("sign", CES_SIGNS)
def test_resolved_sign_is_history_not_current(sign: str) -> None:
    assert "cauda-equina" not in topics(run(patient(fact(sign, 2, history=True))))


def test_undated_sign_cannot_be_excluded_as_new() -> None:
    assert topics(run(patient(fact("urinary_retention", None))))["cauda-equina"] == "critical"


def test_new_diagnosis_fires() -> None:
    assert topics(run(patient(fact("cauda_equina_syndrome", 3))))["cauda-equina"] == "critical"


def test_old_diagnosis_is_history_a_warning_at_most() -> None:
    result = run(patient(fact("cauda_equina_syndrome", 730)))
    assert topics(result) == {"cauda-equina": "warning"}
    assert "BACKPAIN_CDS_NEW_DIAGNOSIS_DAYS` = 14" in card(result, "cauda-equina")["detail"]


def test_old_diagnosis_imaged_since_gives_no_card_of_its_own() -> None:
    record = patient(fact("cauda_equina_syndrome", 730),
                     orders=(order("spine_mri", "completed", 700),))
    assert "cauda-equina" not in topics(run(record))


def test_old_diagnosis_with_a_new_sign_is_critical_again() -> None:
    result = run(patient(fact("cauda_equina_syndrome", 730), fact("faecal_incontinence", 2)))
    assert topics(result)["cauda-equina"] == "critical"
    assert "cauda equina syndrome" in card(result, "cauda-equina")["detail"]


def test_new_diagnosis_window_is_a_setting() -> None:
    record = patient(fact("cauda_equina_syndrome", 20))
    assert topics(run(record))["cauda-equina"] == "warning"
    wider = RuleSettings(new_diagnosis_days=30)
    assert topics(run(record, settings=wider))["cauda-equina"] == "critical"


def test_resolved_diagnosis_does_not_fire() -> None:
    record = patient(fact("cauda_equina_syndrome", 200, history=True))
    assert "cauda-equina" not in topics(run(record))


@pytest.mark.parametrize("concept", ["radiculopathy", "leg_pain"])
def test_bilateral_sciatica_one_fact(concept: str) -> None:
    record = patient(fact(concept, 3, laterality="bilateral"))
    assert topics(run(record))["cauda-equina"] == "critical"


def test_bilateral_sciatica_left_and_right_facts() -> None:
    record = patient(fact("radiculopathy", 90, laterality="left"),
                     fact("radiculopathy", 4, laterality="right"))
    assert topics(run(record))["cauda-equina"] == "critical"


def test_unilateral_sciatica_does_not_fire() -> None:
    record = patient(fact("radiculopathy", 3, laterality="left"))
    assert "cauda-equina" not in topics(run(record))


def test_longstanding_bilateral_sciatica_does_not_fire() -> None:
    record = patient(fact("radiculopathy", 90, laterality="bilateral"))
    assert "cauda-equina" not in topics(run(record))


@pytest.mark.parametrize("concept", ["muscle_weakness", "foot_drop", "leg_sensory_symptoms"])
def test_bilateral_leg_deficit(concept: str) -> None:
    record = patient(fact(concept, 2, laterality="left"), fact(concept, 2, laterality="right"))
    assert topics(run(record))["cauda-equina"] == "critical"


def test_bilateral_weakness_from_strength_grades() -> None:
    record = patient(grade(4, 1, side="left"), grade(4, 1, side="right"))
    assert topics(run(record))["cauda-equina"] == "critical"


def test_sexual_dysfunction_alone_does_not_fire() -> None:
    assert "cauda-equina" not in topics(run(patient(fact("sexual_dysfunction", 2))))


def test_sexual_dysfunction_with_another_sign_is_listed() -> None:
    sexual = fact("sexual_dysfunction", 2)
    result = run(patient(sexual, fact("saddle_anaesthesia", 2)))
    assert sexual.source in card(result, "cauda-equina")["detail"]


def test_window_is_a_setting_and_card_names_it() -> None:
    record = patient(fact("urinary_retention", 20))
    assert topics(run(record))["cauda-equina"] == "warning"
    wider = RuleSettings(cauda_equina_window_days=30)
    detail = card(run(record, settings=wider), "cauda-equina")["detail"]
    assert "BACKPAIN_CDS_CAUDA_EQUINA_WINDOW_DAYS` = 30" in detail


def test_suggests_emergency_department_and_mri() -> None:
    ces = card(run(patient(fact("urinary_retention", 1))), "cauda-equina")
    texts = [s["label"] for s in ces["suggestions"]]
    assert any("emergency" in t.lower() for t in texts)
    assert any("MRI lumbar spine without contrast" in t for t in texts)
    recommended = [s for s in ces["suggestions"] if s.get("isRecommended")]
    assert len(recommended) == 1
