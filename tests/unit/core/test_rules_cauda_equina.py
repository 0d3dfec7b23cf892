"""CES-01: what the cards cite and offer. Which cards fire (every trigger and near-miss):
``rule_cases/cauda_equina.yaml``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.rules.cauda_equina import CES_02
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


# CES-02 1.10.0: sciatica on both sides, persisting and never imaged, as an EHR sends it.

_SNOMED = "http://snomed.info/sct"
_NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _sciatica(id_: str, side: str, onset: str) -> dict[str, Any]:
    """An active Condition coded sciatica (SNOMED CT 23056005) on ``side`` (a SNOMED CT
    laterality qualifier in bodySite: 7771000 left, 24028007 right, 51440002 both)."""
    return {"resourceType": "Condition", "id": id_, "subject": {"reference": "Patient/p"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                     "condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": _SNOMED, "code": "23056005",
                                 "display": "Sciatica"}]},
            "bodySite": [{"coding": [{"system": _SNOMED, "code": side}]}],
            "onsetDateTime": onset}


def _request(*extra: dict[str, Any]) -> HookRequest:
    return HookRequest(hook="patient-view", patient_id="p", resources=(
        {"resourceType": "Patient", "id": "p", "birthDate": "1971-05-01", "gender": "male"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": _SNOMED, "code": "279039007"}]},
         "onsetDateTime": "2026-08-01"},
        *extra))


_LUMBAR_MRI = {"resourceType": "ImagingStudy", "id": "mri", "status": "available",
               "subject": {"reference": "Patient/p"}, "started": "2026-10-01",
               "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                             "code": "MR"}],
               "description": "MRI lumbar spine"}


@pytest.mark.parametrize("sciatica", [
    [_sciatica("both", "51440002", "2026-08-20")],
    [_sciatica("left", "7771000", "2026-06-01"), _sciatica("right", "24028007", "2026-08-20")],
], ids=["one-entry-bilateral", "left-and-right"])
def test_persisting_bilateral_sciatica_never_imaged_is_not_reassured(
        sciatica: list[dict[str, Any]]) -> None:
    """Before 1.10.0 the conservative-care card ("No red flag recorded in the last 14 days")
    was the only card: a cauda equina red flag persisting unassessed, reassured."""
    cards = evaluate(_request(*sciatica), _NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("cauda-equina", "warning")]
    assert cards[0].summary.startswith(
        "Confirm it has been assessed: Sciatica on both sides, recorded 2026-08-20")
    assert f"Rule CES-02 v{CES_02.version}" in cards[0].detail


def test_persisting_bilateral_sciatica_imaged_since_gets_the_conservative_card() -> None:
    cards = evaluate(_request(_sciatica("both", "51440002", "2026-08-20"), _LUMBAR_MRI),
                     _NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("conservative-care", "info")]


def test_an_mri_before_the_second_side_is_named_as_not_assessing_both() -> None:
    early = dict(_LUMBAR_MRI, started="2026-07-01")
    cards = evaluate(_request(_sciatica("left", "7771000", "2026-06-01"),
                              _sciatica("right", "24028007", "2026-08-20"), early), _NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("cauda-equina", "warning")]
    assert "Sciatica (left) recorded 2026-06-01 has a spine MRI since; the other side's " \
           "sign may have begun after that MRI" in cards[0].detail


def test_an_older_bilateral_sciatica_does_not_hide_a_new_left_and_right_pair() -> None:
    """CES-01 2.10.0 (an independent review): an entry coded bilateral made the check look
    at it alone, so a new left and right sciatica beside one from 2019 gave the
    conservative card."""
    cards = evaluate(_request(_sciatica("old", "51440002", "2019-03-01"),
                              _sciatica("left", "7771000", "2026-11-19"),
                              _sciatica("right", "24028007", "2026-11-19")), _NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("cauda-equina", "critical")]
