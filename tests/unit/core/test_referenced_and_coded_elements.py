"""Elements valid in FHIR R4 that the record must read (independent terminology audit,
December 2026, findings 1, 9 and 13): a medicine named by a Reference's display, a
Condition.severity coded outside SNOMED CT, a spine MRI known by its modality and body
site. Each red-flag test fails without the reading; the near misses show it over-reaches
nowhere (a cream, a moderate severity, a knee MRI, a spine X-ray, a cervical MRI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
SUBJECT = {"reference": "Patient/p"}
SNOMED = "http://snomed.info/sct"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACTIVE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                      "code": "active"}]}


def _condition(rid: str, system: str, code: str, onset: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": SUBJECT,
            "clinicalStatus": ACTIVE, "code": {"coding": [{"system": system, "code": code}]},
            "onsetDateTime": onset, **extra}


def _cards(*resources: dict[str, Any], hook: str = "patient-view",
           drafts: tuple[dict[str, Any], ...] = ()) -> set[tuple[str, str]]:
    request = HookRequest(hook=hook, patient_id="p", resources=(
        {"resourceType": "Patient", "id": "p", "birthDate": "1975-04-10", "gender": "female"},
        *resources), draft_orders=drafts,
        selections=tuple(f"ServiceRequest/{d['id']}" for d in drafts))
    return {(c.topic, c.indicator) for c in evaluate(request, NOW).cards}


# --- finding 1: medicationReference read by its display ------------------------------------

LBP = _condition("lbp", SNOMED, "279039007", "2026-02-22")
PREDNISONE_DISPLAY = "predniSONE (DELTASONE) 20 MG tablet"


def _medication(rtype: str, reference: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": rtype, "id": "med-1", "status": "active",
                                "subject": SUBJECT, "medicationReference": reference, **extra}
    if rtype == "MedicationRequest":
        resource.update(intent="order", authoredOn="2025-10-02")
    else:
        resource["effectivePeriod"] = {"start": "2025-10-02"}
    return resource


@pytest.mark.parametrize("rtype", ["MedicationStatement", "MedicationRequest"])
def test_a_medicine_named_only_by_its_reference_display_is_read(rtype: str) -> None:
    ref = {"reference": "Medication/med-pred", "display": PREDNISONE_DISPLAY}
    cards = _cards(LBP, _medication(rtype, ref))
    assert ("fracture", "warning") in cards
    assert ("conservative-care", "info") not in cards


def test_a_contained_reference_not_sent_falls_back_to_its_display() -> None:
    cards = _cards(LBP, _medication("MedicationStatement",
                                    {"reference": "#m1", "display": PREDNISONE_DISPLAY}))
    assert ("fracture", "warning") in cards


def test_a_reference_display_naming_a_cream_is_not_a_systemic_steroid() -> None:
    cream = {"reference": "Medication/m2", "display": "hydrocortisone 1 % cream"}
    assert _cards(LBP, _medication("MedicationStatement", cream)) == {
        ("conservative-care", "info")}


def test_a_reference_without_display_or_medication_stays_unrecognised() -> None:
    assert _cards(LBP, _medication("MedicationStatement", {"reference": "Medication/x"})) == {
        ("conservative-care", "info")}


def test_the_referenced_medication_when_sent_is_read_before_the_display() -> None:
    cream = {"resourceType": "Medication", "id": "m3",
             "code": {"text": "hydrocortisone 1 % cream"}}
    said = {"reference": "Medication/m3", "display": PREDNISONE_DISPLAY}
    assert _cards(LBP, cream, _medication("MedicationStatement", said)) == {
        ("conservative-care", "info")}


# --- finding 9: Condition.severity coded severe outside SNOMED CT --------------------------

SCIATICA = _condition("sci", SNOMED, "23056005", "2026-02-19")


def _weakness(severity: dict[str, Any]) -> dict[str, Any]:
    return _condition("weak", SNOMED, "26544005", "2026-02-28", severity=severity)


@pytest.mark.parametrize("severity", [
    {"coding": [{"system": "http://loinc.org", "code": "LA6750-9", "display": "Severe"}]},
    {"coding": [{"system": "http://loinc.org", "code": "LA6750-9"}]},
    {"coding": [{"system": "http://hospital.example.org/severity", "code": "3",
                 "display": "Severe"}]},
    {"text": "Very severe"},
])
def test_a_severe_weakness_coded_or_written_outside_snomed_is_severe(
        severity: dict[str, Any]) -> None:
    assert ("progressive-neurological-deficit", "warning") in _cards(
        SCIATICA, _weakness(severity))


@pytest.mark.parametrize("severity", [
    {"coding": [{"system": "http://loinc.org", "code": "LA6751-7", "display": "Moderate"}]},
    {"coding": [{"system": "http://hospital.example.org/severity", "code": "1",
                 "display": "Not severe"}]},
    {"text": "Non-severe"},
])
def test_a_moderate_or_negated_severity_is_not_severe(severity: dict[str, Any]) -> None:
    cards = _cards(SCIATICA, _weakness(severity))
    assert not any(topic == "progressive-neurological-deficit" for topic, _ in cards)


# --- finding 13: a spine MRI known by modality and body site -------------------------------

RETENTION = _condition("ret", "http://hl7.org/fhir/sid/icd-10-cm", "R33.9", "2019-06-03")
OLD_LBP = _condition("lbp", "http://hl7.org/fhir/sid/icd-10-cm", "M54.50", "2018-05-02")


def _study(started: str, *, series: list[dict[str, Any]] | None = None,
           modality: str | None = None, description: str | None = None) -> dict[str, Any]:
    study: dict[str, Any] = {"resourceType": "ImagingStudy", "id": "img", "status": "available",
                             "subject": SUBJECT, "started": started}
    if modality:
        study["modality"] = [{"system": DCM, "code": modality}]
    if description:
        study["description"] = description
    if series is not None:
        study["series"] = series
    return study


def _series(modality: str, site: str, display: str | None = None) -> list[dict[str, Any]]:
    body_site = {"system": SNOMED, "code": site}
    if display:
        body_site["display"] = display
    return [{"uid": "1.2.3.4", "modality": {"system": DCM, "code": modality},
             "bodySite": body_site}]


def test_a_lumbar_mri_known_by_series_modality_and_site_code_counts_as_imaging() -> None:
    cards = _cards(OLD_LBP, RETENTION, _study("2020-03-02", series=_series("MR", "122496007")))
    assert cards == {("conservative-care", "info")}


@pytest.mark.parametrize(("series", "why"), [
    (_series("MR", "72696002", "Knee"), "an MRI of the knee"),
    (_series("DX", "122496007"), "a lumbar spine X-ray"),
    (_series("MR", "122494005"), "a cervical spine MRI: not the lumbar canal"),
])
def test_other_imaging_leaves_the_no_mri_since_warning(series: list[dict[str, Any]],
                                                       why: str) -> None:
    cards = _cards(OLD_LBP, RETENTION, _study("2020-03-02", series=series))
    assert ("cauda-equina", "warning") in cards, why


def test_the_series_kinds_are_read_as_the_modality_says() -> None:
    request = HookRequest(hook="patient-view", patient_id="p", resources=(
        {"resourceType": "Patient", "id": "p", "birthDate": "1975-04-10"},
        _study("2020-03-02", series=_series("DX", "122496007")),
        {**_study("2020-03-03", modality="MR", description="MRI L-spine"), "id": "img2"},
        {**_study("2020-03-04", modality="MR", description="MRI knee"), "id": "img3"}))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert sorted((o.source, o.kind) for o in record.orders) == [
        ("ImagingStudy/img", "spine_xray"), ("ImagingStudy/img2", "spine_mri")]


CHRONIC_LBP = _condition("clbp", SNOMED, "278860009", "2025-08-03")
MRI_DRAFT = {"resourceType": "ServiceRequest", "id": "draft", "status": "draft",
             "intent": "order", "subject": SUBJECT, "authoredOn": "2026-03-01",
             "code": {"coding": [{"system": SNOMED, "code": "394451000119106",
                                  "display": "MRI of lumbar spine without contrast"}]}}


def test_a_study_level_modality_and_description_make_a_recent_spine_mri() -> None:
    study = _study("2025-12-01", modality="MR", description="MRI L-spine")
    assert _cards(CHRONIC_LBP, study, hook="order-select", drafts=(MRI_DRAFT,)) == {
        ("repeat-imaging", "info")}


def test_a_study_level_modality_with_a_knee_description_is_no_spine_mri() -> None:
    study = _study("2025-12-01", modality="MR", description="MRI right knee")
    cards = _cards(CHRONIC_LBP, study, hook="order-select", drafts=(MRI_DRAFT,))
    assert ("repeat-imaging", "info") not in cards


@pytest.mark.parametrize("description", [
    "MRI cervical spine", "MRI brain and cervical spine", "MR C-spine", "MRI neck and spine",
    "MR C SPINE WO CONTRAST", "MR CERV SPINE", "MRI cervicothoracic spine",
    "MRI cervical spine full protocol", "MRI entire cervical spine"])
def test_words_naming_the_neck_alone_are_no_spine_mri(description: str) -> None:
    """A cervical study does not image the lumbar canal: it leaves the "no spine MRI since"
    warning, whether the words are the description or a series' body-site display
    (independent review of this change: the study-level path stood the warning down)."""
    alone = _study("2020-03-02", modality="MR", description=description)
    assert ("cauda-equina", "warning") in _cards(OLD_LBP, RETENTION, alone)
    no_site_code = _series("MR", "not-a-spine-code", description)
    in_series = _study("2020-03-02", series=no_site_code)
    assert ("cauda-equina", "warning") in _cards(OLD_LBP, RETENTION, in_series)


@pytest.mark.parametrize("description", [
    "MRI cervical and lumbar spine", "MRI whole spine", "MRI C-spine and L-spine", "MR L SPINE",
    "MRI lumbar spine"])
def test_words_naming_the_spine_below_the_neck_count(description: str) -> None:
    study = _study("2020-03-02", modality="MR", description=description)
    assert _cards(OLD_LBP, RETENTION, study) == {("conservative-care", "info")}


def test_a_series_with_its_own_modality_is_not_read_by_the_studys_list() -> None:
    """An MR series of the knee beside a spine-coded SR (report) series: no spine MRI (the
    study-level list counts only with a description naming the spine)."""
    series = [*_series("MR", "72696002", "Knee"),
              {"uid": "1.2.3.5", "modality": {"system": DCM, "code": "SR"},
               "bodySite": {"system": SNOMED, "code": "122496007"}}]
    mixed = _study("2020-03-02", modality="MR", series=series)
    assert ("cauda-equina", "warning") in _cards(OLD_LBP, RETENTION, mixed)
