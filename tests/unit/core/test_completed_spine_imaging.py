"""Completed spine imaging, read as what it can show (December 2026, safety-b).

1. A lumbar MRI written the ways PACS and EHRs write it ("MR LSPINE", "MRI CAUDA EQUINA
   PROTOCOL", a series body site sent as the DICOM Body Part Examined term "LSPINE") is a
   lumbar spine MRI; a neck-only or non-spine study is not.

Every resource is FHIR R4 as an EHR sends it; each defect's test failed before its fix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
PID = "p"
SUBJECT = {"reference": f"Patient/{PID}"}
PATIENT = {"resourceType": "Patient", "id": PID, "birthDate": "1975-04-10", "gender": "female"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACTIVE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                      "code": "active"}]}


def _condition(rid: str, system: str, code: str, onset: str | None,
               **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition", "id": rid, "subject": SUBJECT,
                                "clinicalStatus": ACTIVE,
                                "code": {"coding": [{"system": system, "code": code}]},
                                **extra}
    if onset is not None:
        resource["onsetDateTime"] = onset
    return resource


def _study(started: str | None, *, rid: str = "img", modality: str | None = None,
           description: str | None = None, series: list[dict[str, Any]] | None = None,
           procedure: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    study: dict[str, Any] = {"resourceType": "ImagingStudy", "id": rid, "status": "available",
                             "subject": SUBJECT}
    if started is not None:
        study["started"] = started
    if modality:
        study["modality"] = [{"system": DCM, "code": modality}]
    if description:
        study["description"] = description
    if series is not None:
        study["series"] = series
    if procedure is not None:
        study["procedureCode"] = procedure
    return study


def _series(modality: str, body_site: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"uid": "1.2.3.4", "modality": {"system": DCM, "code": modality},
             "bodySite": body_site}]


def _done(code: dict[str, Any], when: str | None, rid: str = "mri-done") -> dict[str, Any]:
    """A completed ServiceRequest for an imaging study (occurrence = when it was done)."""
    resource: dict[str, Any] = {"resourceType": "ServiceRequest", "id": rid,
                                "status": "completed", "intent": "order", "subject": SUBJECT,
                                "code": {"coding": [code]}}
    if when is not None:
        resource["occurrenceDateTime"] = when
    return resource


def _cards(*resources: dict[str, Any], hook: str = "patient-view",
           drafts: tuple[dict[str, Any], ...] = ()) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook=hook, patient_id=PID, resources=(PATIENT, *resources),
                          draft_orders=drafts,
                          selections=tuple(f"ServiceRequest/{d['id']}" for d in drafts))
    return {c["source"]["topic"]["code"]: c
            for c in to_json(evaluate(request, NOW, DEFAULT_SETTINGS).cards)}


def _topics(*resources: dict[str, Any], **kwargs: Any) -> set[tuple[str, str]]:
    return {(topic, card["indicator"]) for topic, card in _cards(*resources, **kwargs).items()}


def _offered(card: dict[str, Any]) -> list[str]:
    """The catalogue codes a card offers to order (local, SNOMED, LOINC, CPT)."""
    return [coding["code"]
            for suggestion in card.get("suggestions", [])
            for action in suggestion["actions"] if action["type"] == "create"
            for coding in action["resource"]["code"]["coding"]]


# A cauda equina sign past its 14-day window, still active: CES-02 "confirm it has been
# assessed" unless a spine MRI that can show the cauda equina followed it.
OLD_LBP = _condition("lbp", ICD10CM, "M54.50", "2018-05-02")
RETENTION = _condition("ret", ICD10CM, "R33.9", "2019-06-03")
CES_WARNING = ("cauda-equina", "warning")
STOOD_DOWN = {("conservative-care", "info")}


# --- 1. lumbar MRI descriptions and DICOM Body Part Examined terms --------------------------

@pytest.mark.parametrize("description", [
    "MR LSPINE", "MRI THORACOLUMBAR SPINE", "MRI CAUDA EQUINA PROTOCOL", "MR L-SPINE W/O",
    "MR LSSPINE", "MR TLSPINE", "MRI THORACOLUMBAR", "MRI LUMBOSACRAL"])
def test_a_lumbar_mri_description_stands_the_warning_down(description: str) -> None:
    study = _study("2020-03-02", modality="MR", description=description)
    assert _topics(OLD_LBP, RETENTION, study) == STOOD_DOWN, description


@pytest.mark.parametrize("body_site", [
    {"code": "LSPINE"},
    {"system": DCM, "code": "LSPINE"},
    {"code": "LSSPINE", "display": "Lumbo-sacral spine"},
    {"code": "TLSPINE"},
    {"display": "LSPINE"},
    {"code": "SPINE"},
])
def test_a_series_body_site_sent_as_a_body_part_examined_term_counts(
        body_site: dict[str, Any]) -> None:
    """DICOM Body Part Examined (0018,0015) defined terms (PS3.16 Annex L) put where FHIR
    R4 expects a SNOMED CT body structure: the term is the code (any system or none) or the
    display."""
    study = _study("2020-03-02", series=_series("MR", body_site))
    assert _topics(OLD_LBP, RETENTION, study) == STOOD_DOWN, body_site


@pytest.mark.parametrize("description", [
    "MR CSPINE", "MRI C-SPINE", "MR CTSPINE", "MRI BRAIN", "MR KNEE", "MR WHOLEBODY"])
def test_neck_only_and_non_spine_descriptions_still_leave_the_warning(description: str) -> None:
    study = _study("2020-03-02", modality="MR", description=description)
    assert CES_WARNING in _topics(OLD_LBP, RETENTION, study), description


@pytest.mark.parametrize("term", ["CSPINE", "CTSPINE", "WHOLEBODY", "KNEE", "SSPINE",
                                  "COCCYX", "BRAIN"])
def test_other_body_part_examined_terms_are_no_lumbar_mri(term: str) -> None:
    """A neck, sacrum, coccyx, whole-body (not a spine protocol) or non-spine term does not
    make a spine MRI (spine_body_site leaves cervical, sacrum and coccyx out already)."""
    study = _study("2020-03-02", series=_series("MR", {"code": term}))
    assert CES_WARNING in _topics(OLD_LBP, RETENTION, study), term


def test_a_body_part_examined_term_keeps_the_series_modality() -> None:
    """An LSPINE term on an X-ray series makes a spine X-ray, not an MRI."""
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        PATIENT, _study("2020-03-02", series=_series("DX", {"code": "LSPINE"}))))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert [o.kind for o in record.orders] == ["spine_xray"]
