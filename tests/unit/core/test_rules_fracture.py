"""FRAC-01: what the card offers. Which cards fire: ``rule_cases/fracture.yaml``."""

from __future__ import annotations

from datetime import UTC, datetime

from cds_rules import HookRequest, evaluate
from tests.unit.core.rule_records import card, fact, patient, run

TOPIC = "fracture"


def test_trauma_with_neurological_deficit_suggests_the_emergency_department() -> None:
    record = patient(fact("significant_trauma", 1), fact("leg_sensory_symptoms", 1,
                                                         laterality="left"))
    result = run(record)
    assert any("emergency" in s["label"].lower() for s in card(result, TOPIC)["suggestions"])


def _fracture_entry(*codings: dict[str, str]) -> dict[str, object]:
    return {"resourceType": "Condition", "id": "frac-1", "subject": {"reference": "Patient/p"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"coding": list(codings)}, "onsetDateTime": "2026-02-27T10:00:00Z"}


_ICD_FRACTURE = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "S22.009A",
                 "display": "Unspecified fracture of unspecified thoracic vertebra"}
_CORD_INJURY = {"system": "http://snomed.info/sct", "code": "1734006",
                "display": "Fracture of vertebral column with spinal cord injury"}


def _fracture_cards(entry: dict[str, object]) -> list[tuple[str, str]]:
    back_pain = {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
                 "onsetDateTime": "2026-02-24T10:00:00Z"}
    person = {"resourceType": "Patient", "id": "p", "birthDate": "1980-01-01"}
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=(person, back_pain, entry))
    result = evaluate(request, datetime(2026, 3, 1, 10, tzinfo=UTC))
    return [(c.topic, c.indicator) for c in result.cards]


def test_a_new_cord_injury_fracture_is_critical_whatever_the_order_of_its_codings() -> None:
    """FHIR R4: the order of codings SHALL NOT be used to infer meaning (FRAC-01 2.3.0)."""
    for codings in ((_CORD_INJURY, _ICD_FRACTURE), (_ICD_FRACTURE, _CORD_INJURY)):
        assert _fracture_cards(_fracture_entry(*codings)) == [(TOPIC, "critical")], codings


def test_a_new_fracture_without_cord_injury_stays_a_warning() -> None:
    assert _fracture_cards(_fracture_entry(_ICD_FRACTURE)) == [(TOPIC, "warning")]
