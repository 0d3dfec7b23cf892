"""CES-01: what the cards cite and offer. Which cards fire (every trigger and near-miss):
``rule_cases/cauda_equina.yaml``."""

from __future__ import annotations

from tests.unit.core.rule_records import card, fact, patient, run


def test_sexual_dysfunction_with_another_sign_is_listed() -> None:
    sexual = fact("sexual_dysfunction", 2)
    result = run(patient(sexual, fact("saddle_anaesthesia", 2)))
    assert sexual.source in card(result, "cauda-equina")["detail"]


def test_suggests_emergency_department_and_mri() -> None:
    ces = card(run(patient(fact("urinary_retention", 1))), "cauda-equina")
    texts = [s["label"] for s in ces["suggestions"]]
    assert any("emergency" in t.lower() for t in texts)
    assert any("MRI lumbar spine without contrast" in t for t in texts)
    recommended = [s for s in ces["suggestions"] if s.get("isRecommended")]
    assert len(recommended) == 1
