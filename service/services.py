"""The four CDS services this deployment offers (DESIGN.md, "The external contract").

Every service asks for the same prefetch, declared by the clinical core
(:mod:`cds_rules.requirements`) because only the core knows which codes its rules read and
which keys it cannot judge without (``REQUIRED_KEYS``: a call that lacks them and cannot
fetch them gets 412).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from cds_rules import Service, prefetch_templates, to_json
from service.schemas import request_schema

_USAGE = (
    "Calls must carry a JWT signed by a trusted CDS client. Send every prefetch key, or "
    "fhirServer with fhirAuthorization (read scopes for Patient, Condition, Observation, "
    "MedicationRequest, MedicationStatement, ServiceRequest, Procedure, DiagnosticReport and "
    "ImagingStudy) so the service can read what is missing. patient and conditions are "
    "required (HTTP 412 when they can be neither read nor fetched); the other keys are "
    "optional and each card says which data could not be read. FHIR R4."
)


@dataclass(frozen=True, slots=True)
class CdsService:
    """One discovery entry, plus the request schema that validates its calls."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]
    request_schema: type[Schema]

    def discovery_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = to_json(Service(
            hook=self.hook, title=self.title, description=self.description, id=self.id,
            prefetch=self.prefetch, usage_requirements=_USAGE))
        return entry


def _service(service_id: str, hook: str, title: str, description: str) -> CdsService:
    templates = prefetch_templates()
    return CdsService(service_id, hook, title, description, templates,
                      request_schema(service_id, hook, templates))


SERVICES: dict[str, CdsService] = {
    s.id: s
    for s in (
        _service(
            "back-pain-patient-view", "patient-view",
            "Back pain red flags and care pathway",
            "When a chart of an adult with back pain is opened: red flags that need urgent "
            "assessment (cauda equina, cord compression, progressive neurological deficit, "
            "malignancy, infection, fracture, inflammatory or visceral causes), whether "
            "imaging is indicated, nerve studies, and the conservative care pathway.",
        ),
        _service(
            "back-pain-encounter-start", "encounter-start",
            "Back pain red flags at the start of an encounter",
            "At the start of an encounter with an adult with back pain: the same red flags "
            "and care-pathway advice as on opening the chart, in time to plan the visit.",
        ),
        _service(
            "back-pain-order-select", "order-select",
            "Spine imaging and EMG/NCS appropriateness (order selected)",
            "When spine MRI, CT or X-ray, or EMG/nerve conduction studies are selected for an "
            "adult with back pain: whether the order is indicated now (with a suggestion to "
            "remove it and follow the conservative pathway when it is not), repeat imaging, "
            "and any red flags.",
        ),
        _service(
            "back-pain-order-sign", "order-sign",
            "Spine imaging and EMG/NCS appropriateness (before signing)",
            "Before signing spine imaging or EMG/nerve conduction study orders for an adult "
            "with back pain: the same appropriateness checks as on selection, and any red "
            "flags.",
        ),
    )
}


def discovery_document() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [service.discovery_entry() for service in SERVICES.values()]}
