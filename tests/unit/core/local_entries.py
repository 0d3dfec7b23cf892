"""FHIR entries coded with a hospital's own code system, which no value set knows: what
the uncoded reader reads the words of."""

from __future__ import annotations

from typing import Any

LOCAL = "http://hospital.example.org/fhir/CodeSystem/problems"


def local_problem(text: str, onset: str = "2026-02-28") -> dict[str, Any]:
    """An active problem-list Condition whose only coding is local, displayed ``text``."""
    return {"resourceType": "Condition", "id": "local-1", "subject": {"reference": "Patient/p"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"coding": [{"system": LOCAL, "code": "X1", "display": text}]},
            "onsetDateTime": onset}
