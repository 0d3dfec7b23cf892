"""Structural validation of the few resources the rules use, with ``fhir.resources.R4B``.

Validation is the expensive step (DESIGN.md, "Performance design"), so the record builder
calls it only for resources it has already selected by type and code. A resource that
fails is skipped and counted, never fatal. One messy-but-readable form is repaired first:
a dateTime with a time but no zone ("2026-03-05T10:00:00", "2026-03-05 10:00"), which the
spec forbids and real feeds send; it is read as UTC (CLINICAL.md safety principle 5).
"""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "Condition": Condition,
    "Observation": Observation,
    "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement,
    "Medication": Medication,
    "ServiceRequest": ServiceRequest,
    "Procedure": Procedure,
    "ImagingStudy": ImagingStudy,
    "DiagnosticReport": DiagnosticReport,
}

_ZONELESS = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?$")
_MAX_DEPTH = 12


def validated(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The resource (or its zone-repaired copy) if it validates as its R4B model, else None.

    Types without a model here are returned unchanged: the record builder never reads them.
    """
    model = MODELS.get(resource.get("resourceType"))  # type: ignore[arg-type]
    if model is None:
        return resource
    if _valid(model, resource):
        return resource
    try:
        repaired = _repair(resource, 0)
    except RecursionError:
        return None
    if repaired is not resource and _valid(model, repaired):
        return repaired  # type: ignore[no-any-return]
    return None


def _valid(model: Any, resource: dict[str, Any]) -> bool:
    try:
        model.model_validate(resource)
    except Exception:  # pydantic ValidationError, and anything odd input can provoke
        return False
    return True


def _repair(value: Any, depth: int) -> Any:
    """A copy with zone-less dateTimes given "Z"; the same object when nothing changed."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, str):
        match = _ZONELESS.match(value)
        if match is None:
            return value
        return f"{match[1]}T{match[2]}{match[3] or ':00'}Z"
    if isinstance(value, dict):
        changed = {k: _repair(v, depth + 1) for k, v in value.items()}
        same = all(changed[k] is value[k] for k in value)
        return value if same else changed
    if isinstance(value, list):
        items = [_repair(v, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def warm() -> None:
    """Build each model's validator once (pydantic builds lazily: the first call is slow),
    so that the first hook call after a worker starts is as fast as the rest."""
    for name, model in MODELS.items():
        _valid(model, {"resourceType": name})


warm()
