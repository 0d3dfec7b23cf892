"""FHIR entries coded with a hospital's own code system, which no value set knows: what
the uncoded reader reads the words of."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cds_rules import HookRequest, evaluate, to_json

LOCAL = "http://hospital.example.org/fhir/CodeSystem/problems"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SUBJECT = {"reference": "Patient/p"}  # the patient of :func:`with_back_pain`
IV_DRUG_USE = {"resourceType": "Condition", "id": "ivdu", "subject": SUBJECT,
               "code": {"coding": [{"system": SNOMED, "code": "228388006"}]},
               "onsetDateTime": "2025-01-01"}
"""Intravenous drug use (SNOMED CT 228388006), a risk factor for spinal infection (INF-01)."""
ACUTE_NOW = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
"""A moment eight days into :func:`with_back_pain`'s back pain."""


def local_problem(text: str, onset: str = "2026-02-28") -> dict[str, Any]:
    """An active problem-list Condition whose only coding is local, displayed ``text``."""
    return {"resourceType": "Condition", "id": "local-1", "subject": {"reference": "Patient/p"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"coding": [{"system": LOCAL, "code": "X1", "display": text}]},
            "onsetDateTime": onset}


def with_back_pain(*entries: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """``entries`` beside a patient born 1960 with low back pain (SNOMED CT) since
    2026-02-20: a record in which the conservative card is shown unless a red flag is."""
    return (
        {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
         "onsetDateTime": "2026-02-20"},
        *entries,
    )


def retention_row(value: str) -> dict[str, Any]:
    """An Observation coded SNOMED CT 267064002 (retention of urine) valued ``value`` in
    words: a checklist row whose answer the reader must read (the critical cauda equina card
    unless the words deny it)."""
    return {"resourceType": "Observation", "id": "row", "status": "final", "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]},
            "effectiveDateTime": "2026-02-28T09:00:00Z", "valueString": value}


def cards_by_topic(*entries: dict[str, Any], now: datetime) -> dict[str, dict[str, Any]]:
    """The cards a patient-view call gives for ``entries`` beside :func:`with_back_pain`'s
    back pain, on the wire, by topic code."""
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))
    return {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, now).cards)}
