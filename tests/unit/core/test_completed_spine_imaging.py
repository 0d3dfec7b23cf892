"""Completed spine imaging, read as what it can show (December 2026, safety-b).

1. A lumbar MRI written the ways PACS and EHRs write it ("MR LSPINE", "MRI CAUDA EQUINA
   PROTOCOL", a series body site sent as the DICOM Body Part Examined term "LSPINE") is a
   lumbar spine MRI; a neck-only or non-spine study is not.
2. A thoracic-only (or cervical-only) MRI cannot show the cauda equina: it never stands a
   cauda equina "confirm it has been assessed" warning down; a lumbar, thoracolumbar,
   whole-spine or unspecified spine MRI still does. A thoracic MRI still answers a
   cord-compression sign (CORD-02). On the cards, a study stands in for a suggested one
   only when it may image the segments the suggestion names: a thoracic MRI does not answer
   the emergency lumbar MRI, nor a lumbar one the emergency whole-spine MRI.
3. A completed study with no date is not recent and not "after" a sign (it may be years
   old): it does not take away the emergency MRI, an indicated MRI, an EMG/NCS or the NICE
   NG12 blood tests; an undated pending order is still pending.
4. The emergency-MRI re-offer check reads when a sign began (a Condition's onset), not when
   it was recorded: a cauda equina diagnosis recorded today, after the MRI of yesterday that
   made it, does not re-offer that MRI. These tests passed before (the check already read
   the onset); they fail if it read the recordedDate.

Every resource is FHIR R4 as an EHR sends it; each test of parts 1-3 that a fix changed
failed before it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules import valuesets as vs
from cds_rules.record import build_record
from cds_rules.record.spine_sites import segments_of_code
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


# --- 2. a thoracic-only MRI cannot show the cauda equina ------------------------------------

def _procedure_study(system: str, code: str, started: str = "2020-03-02",
                     rid: str = "img") -> dict[str, Any]:
    return _study(started, rid=rid, procedure=[{"coding": [{"system": system, "code": code}]}])


def _report(system: str, code: str, when: str = "2020-03-02") -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": "rep", "status": "final",
            "subject": SUBJECT, "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": when}


THORACIC_ONLY = {
    "ImagingStudy LOINC 36532-0": _procedure_study(LOINC, "36532-0"),
    "ServiceRequest SNOMED 396171000119100": _done(
        {"system": SNOMED, "code": "396171000119100"}, "2020-03-02"),
    "DiagnosticReport CPT 72146": _report(CPT, "72146"),
    "Procedure SNOMED 91333005": {
        "resourceType": "Procedure", "id": "proc", "status": "completed", "subject": SUBJECT,
        "code": {"coding": [{"system": SNOMED, "code": "91333005"}]},
        "performedDateTime": "2020-03-02"},
    "description MRI THORACIC SPINE": _study("2020-03-02", modality="MR",
                                             description="MRI THORACIC SPINE"),
    "description MR T-SPINE": _study("2020-03-02", modality="MR", description="MR T-SPINE"),
    "description MRI DORSAL SPINE": _study("2020-03-02", modality="MR",
                                           description="MRI DORSAL SPINE"),
    "series body site SNOMED thoracic spine": _study(
        "2020-03-02", series=_series("MR", {"system": SNOMED, "code": "122495006"})),
    "series body site TSPINE": _study("2020-03-02", series=_series("MR", {"code": "TSPINE"})),
    "description MRI SPINE, series TSPINE": _study(
        "2020-03-02", description="MRI SPINE", series=_series("MR", {"code": "TSPINE"})),
    "code MRI of spine, text MRI thoracic spine": _done(
        {"system": SNOMED, "code": "241645008", "display": "MRI thoracic spine"}, "2020-03-02"),
    "description MRI cervico-thoracic spine": _study(
        "2020-03-02", modality="MR", description="MRI cervico-thoracic spine"),
}


@pytest.mark.parametrize("name", list(THORACIC_ONLY))
def test_a_thoracic_only_mri_leaves_the_cauda_equina_warning(name: str) -> None:
    cards = _cards(OLD_LBP, RETENTION, THORACIC_ONLY[name])
    assert cards["cauda-equina"]["indicator"] == "warning", name
    assert "conservative-care" not in cards
    detail = cards["cauda-equina"]["detail"]
    assert "does not image the lumbar spine" in detail, detail
    assert cards["cauda-equina"]["summary"].endswith("no lumbar spine MRI since")


def test_an_old_cauda_equina_diagnosis_is_not_assessed_by_a_thoracic_mri() -> None:
    old_ces = _condition("ces", ICD10CM, "G83.4", "2019-06-03", recordedDate="2019-06-03")
    cards = _cards(OLD_LBP, old_ces, _procedure_study(LOINC, "36532-0"))
    assert cards["cauda-equina"]["indicator"] == "warning"


COVERS_THE_LUMBAR_CANAL = {
    "ImagingStudy LOINC 30854-4 (whole spine)": _procedure_study(LOINC, "30854-4"),
    "ServiceRequest SNOMED 411611000119102 (whole spine)": _done(
        {"system": SNOMED, "code": "411611000119102"}, "2020-03-02"),
    "ServiceRequest CPT 72148 (lumbar)": _done({"system": CPT, "code": "72148"}, "2020-03-02"),
    "ServiceRequest SNOMED 241645008 (MRI of spine, region not said)": _done(
        {"system": SNOMED, "code": "241645008"}, "2020-03-02"),
    "DiagnosticReport LOINC 36531-2 (MR spine, region not said)": _report(LOINC, "36531-2"),
    "description MRI SPINE": _study("2020-03-02", modality="MR", description="MRI SPINE"),
    "description MRI THORACOLUMBAR SPINE": _study("2020-03-02", modality="MR",
                                                  description="MRI THORACOLUMBAR SPINE"),
    "description MRI T-SPINE AND L-SPINE": _study("2020-03-02", modality="MR",
                                                  description="MRI T-SPINE AND L-SPINE"),
    "series body site TLSPINE": _study("2020-03-02", series=_series("MR", {"code": "TLSPINE"})),
    "series body site SNOMED thoraco-lumbar": _study(
        "2020-03-02", series=_series("MR", {"system": SNOMED, "code": "1217256009"})),
    "description MRI lumbar spine, series TSPINE": _study(
        "2020-03-02", description="MRI lumbar spine", series=_series("MR", {"code": "TSPINE"})),
    "code lumbar, text thoracic (the code says)": _done(
        {"system": LOINC, "code": "30679-5", "display": "MRI thoracic spine"}, "2020-03-02"),
}


@pytest.mark.parametrize("name", list(COVERS_THE_LUMBAR_CANAL))
def test_a_lumbar_whole_spine_or_unspecified_mri_stands_the_warning_down(name: str) -> None:
    """An MRI whose region the record does not say may have imaged the lumbar spine (most
    spine MRIs for back pain do): counting it creates no warning nobody can act on."""
    assert _topics(OLD_LBP, RETENTION, COVERS_THE_LUMBAR_CANAL[name]) == STOOD_DOWN, name


def test_a_thoracic_mri_still_answers_a_cord_compression_sign() -> None:
    """CORD-02 reads any spine MRI: a thoracic one images the thoracic cord."""
    gait = _condition("gait", SNOMED, "22325002", "2019-06-03")
    assert _topics(OLD_LBP, gait) >= {("spinal-cord-compression", "warning")}
    assert _topics(OLD_LBP, gait, _procedure_study(LOINC, "36532-0")) == STOOD_DOWN


def test_the_record_keeps_the_segments_each_study_imaged() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        PATIENT, _procedure_study(LOINC, "36532-0", rid="t"),
        _procedure_study(LOINC, "30854-4", rid="w"),
        _procedure_study(SNOMED, "241645008", rid="u"),
        _study("2020-03-02", rid="d", modality="MR", description="MR LSSPINE")))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert {o.source: sorted(o.segments) for o in record.orders} == {
        "ImagingStudy/t": ["thoracic"],
        "ImagingStudy/w": ["cervical", "lumbar", "thoracic"],
        "ImagingStudy/u": [],
        "ImagingStudy/d": ["lumbar", "sacral"],
    }
SHIPPED_SEGMENTS = {
    "lumbar": {"394451000119106", "41333006", "24967-2", "30679-5", "24968-0", "30678-7",
               "72148", "72149", "72158", "572091000119106", "24963-1", "840361000",
               "24970-6", "122496007"},
    "lumbar sacral": {"22791004", "72100", "72110", "72114", "1217253001"},
    "thoracic": {"396171000119100", "91333005", "36532-0", "72146", "72147", "72157",
                 "1290654008", "72070", "72072", "72074", "24983-9", "122495006"},
    "cervical lumbar thoracic": {"411611000119102", "495741000119105", "30854-4", "30855-1"},
    "lumbar thoracic": {"1217256009"},
    "": {"241645008", "36531-2", "421060004"},  # "MRI of spine", "MR Spine", "Spine"
}


def test_every_shipped_spine_imaging_code_names_its_segments() -> None:
    """Each code of spine_mri, spine_ct, spine_xray and spine_body_site, read by its
    value-set display: no code is left to the "region not said" reading by accident."""
    found: dict[str, set[str]] = {}
    for name in ("spine_mri", "spine_ct", "spine_xray", "spine_body_site"):
        for system, code in vs.codes_of(name):
            segments = segments_of_code(system, code)
            assert segments is not None, code
            found.setdefault(" ".join(sorted(segments)), set()).add(code)
    assert found == SHIPPED_SEGMENTS


def test_a_site_coded_mri_is_read_by_its_site_display() -> None:
    local = "http://hospital.example.org/fhir/CodeSystem/local-orders"
    entry = {"system": local, "code": "MRTSP", "display": "MRI T-spine (local order)",
             "verified": "site code (test)", "site": True}
    try:
        vs.apply_site_codes([("spine_mri", entry)])
        assert segments_of_code(local, "MRTSP") == {"thoracic"}
        thoracic = _done({"system": local, "code": "MRTSP"}, "2020-03-02")
        assert _cards(OLD_LBP, RETENTION, thoracic)["cauda-equina"]["indicator"] == "warning"
    finally:
        vs.apply_site_codes([])
    assert segments_of_code(local, "MRTSP") is None


# A new cauda equina sign: the critical card offers the emergency lumbar MRI unless a study
# that can show the cauda equina is pending or was done since the sign.
NEW_RETENTION = {"resourceType": "Observation", "id": "new-ret", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}
RECENT_LBP = _condition("lbp2", SNOMED, "279039007", "2026-02-20")
EMERGENCY_LUMBAR_MRI = "394451000119106"


def test_a_thoracic_mri_done_after_the_sign_does_not_stand_in_for_the_emergency_mri() -> None:
    thoracic = _done({"system": SNOMED, "code": "396171000119100"}, "2026-02-28T12:00:00Z")
    card = _cards(RECENT_LBP, NEW_RETENTION, thoracic)["cauda-equina"]
    assert card["indicator"] == "critical"
    assert EMERGENCY_LUMBAR_MRI in _offered(card)
    assert "ServiceRequest/mri-done" not in card["detail"]


def test_a_pending_thoracic_mri_does_not_stand_in_for_the_emergency_mri() -> None:
    pending = {**_done({"system": SNOMED, "code": "396171000119100"}, None), "status": "active"}
    card = _cards(RECENT_LBP, NEW_RETENTION, pending)["cauda-equina"]
    assert EMERGENCY_LUMBAR_MRI in _offered(card)


@pytest.mark.parametrize("code", [
    {"system": SNOMED, "code": "394451000119106"},  # lumbar
    {"system": SNOMED, "code": "241645008"},  # MRI of spine: region not said
])
def test_a_lumbar_or_unspecified_mri_done_after_the_sign_still_stands_in(
        code: dict[str, Any]) -> None:
    card = _cards(RECENT_LBP, NEW_RETENTION, _done(code, "2026-02-28T12:00:00Z"))["cauda-equina"]
    assert EMERGENCY_LUMBAR_MRI not in _offered(card)
    assert "ServiceRequest/mri-done" in card["detail"]


WHOLE_SPINE_MRI = "411611000119102"
NEW_GAIT = {"resourceType": "Observation", "id": "new-gait", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
            "code": {"coding": [{"system": SNOMED, "code": "22325002"}]}}


def test_a_lumbar_mri_does_not_stand_in_for_the_emergency_whole_spine_mri() -> None:
    """The cord lies above the lumbar spine: a lumbar MRI done after a new gait disturbance
    does not answer the cord-compression card's whole-spine MRI."""
    lumbar = _done({"system": SNOMED, "code": "394451000119106"}, "2026-02-28T12:00:00Z")
    card = _cards(RECENT_LBP, NEW_GAIT, lumbar)["spinal-cord-compression"]
    assert WHOLE_SPINE_MRI in _offered(card)
    whole = _done({"system": SNOMED, "code": WHOLE_SPINE_MRI}, "2026-02-28T12:00:00Z")
    card = _cards(RECENT_LBP, NEW_GAIT, whole)["spinal-cord-compression"]
    assert WHOLE_SPINE_MRI not in _offered(card)


# --- 3. a completed study with no date is not recent, and not after anything --------------

def _undated_completed() -> dict[str, dict[str, Any]]:
    study = _procedure_study(SNOMED, "394451000119106")
    study.pop("started")
    report = {"resourceType": "DiagnosticReport", "id": "rep", "status": "final",
              "subject": SUBJECT, "code": {"coding": [{"system": LOINC, "code": "30679-5"}]}}
    return {"ImagingStudy": study, "DiagnosticReport": report,
            "ServiceRequest": _done({"system": SNOMED, "code": "394451000119106"}, None)}


UNDATED = _undated_completed()


@pytest.mark.parametrize("rtype", list(UNDATED))
def test_an_undated_completed_mri_does_not_stand_in_for_the_emergency_mri(rtype: str) -> None:
    """It may be years old: it cannot be shown to follow the sign (before: counted as done
    after it, and the emergency MRI was not offered)."""
    card = _cards(RECENT_LBP, NEW_RETENTION, UNDATED[rtype])["cauda-equina"]
    assert card["indicator"] == "critical"
    assert EMERGENCY_LUMBAR_MRI in _offered(card), rtype


def test_an_undated_pending_mri_is_still_pending() -> None:
    """An active order with no date is on order now: not suggested again (as before)."""
    pending = {**_done({"system": SNOMED, "code": "394451000119106"}, None), "status": "active"}
    card = _cards(RECENT_LBP, NEW_RETENTION, pending)["cauda-equina"]
    assert EMERGENCY_LUMBAR_MRI not in _offered(card)
    assert "Already ordered or recently done, not suggested again: `ServiceRequest/mri-done`" \
        in card["detail"]


@pytest.mark.parametrize("rtype", list(UNDATED))
def test_an_undated_completed_mri_does_not_assess_a_cauda_equina_sign(rtype: str) -> None:
    assert CES_WARNING in _topics(OLD_LBP, RETENTION, UNDATED[rtype])


CHRONIC_LBP = _condition("clbp", SNOMED, "278860009", "2025-08-03")
MRI_DRAFT = {"resourceType": "ServiceRequest", "id": "draft", "status": "draft",
             "intent": "order", "subject": SUBJECT, "authoredOn": "2026-03-01",
             "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}]}}


@pytest.mark.parametrize("rtype", list(UNDATED))
def test_an_undated_completed_mri_makes_no_draft_a_repeat(rtype: str) -> None:
    cards = _topics(CHRONIC_LBP, UNDATED[rtype], hook="order-select", drafts=(MRI_DRAFT,))
    assert ("repeat-imaging", "info") not in cards


RADICULOPATHY = _condition("rad", ICD10CM, "M54.16", "2025-12-01")
PHYSIO = {"resourceType": "Procedure", "id": "pt", "status": "completed", "subject": SUBJECT,
          "code": {"coding": [{"system": "https://backpain-cds.org/fhir/CodeSystem/local-finding",
                               "code": "physiotherapy"}]},
          "performedDateTime": "2026-01-05"}


@pytest.mark.parametrize("rtype", list(UNDATED))
def test_an_undated_completed_mri_is_not_a_recent_mri(rtype: str) -> None:
    """IMG-02: radicular symptoms after 6 weeks of conservative care, no spine MRI in the
    repeat-imaging window: an MRI with no date is not shown to be in it, so the MRI is
    suggested, and the card names the undated study to check (before: no card)."""
    card = _cards(RADICULOPATHY, PHYSIO, UNDATED[rtype])["imaging-indicated"]
    assert EMERGENCY_LUMBAR_MRI in _offered(card)
    assert f"`{UNDATED[rtype]['resourceType']}/" in card["detail"]
    assert "no date" in card["detail"]


def test_a_dated_recent_mri_still_stands_the_suggestion_down() -> None:
    recent = _done({"system": SNOMED, "code": "394451000119106"}, "2025-11-02")
    assert "imaging-indicated" not in _cards(RADICULOPATHY, PHYSIO, recent)


DIABETES = _condition("dm", ICD10CM, "E11.9", "2015-01-01")


def test_an_undated_completed_emg_is_not_a_recent_one() -> None:
    emg = _done({"system": CPT, "code": "95886"}, None, rid="emg")
    cards = _cards(RADICULOPATHY, DIABETES, emg)
    assert ("electrodiagnostic-testing", "info") in _topics(RADICULOPATHY, DIABETES, emg)
    assert "ServiceRequest/emg" not in cards["electrodiagnostic-testing"]["detail"]
    pending = {**emg, "status": "active"}
    assert "electrodiagnostic-testing" not in _cards(RADICULOPATHY, DIABETES, pending)


def test_the_window_keeps_undated_pending_orders_and_drops_undated_completed_ones() -> None:
    pending = {**_done({"system": SNOMED, "code": "394451000119106"}, None, rid="p"),
               "status": "active"}
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        PATIENT, pending, UNDATED["ServiceRequest"]))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert [o.source for o in record.orders_of("spine_mri", within=timedelta(days=365))] == [
        "ServiceRequest/p"]
    assert len(record.orders_of("spine_mri")) == 2  # without a window: every order


def test_undated_completed_blood_tests_do_not_take_the_ng12_step() -> None:
    """MAL-02 (NICE NG12, myeloma): at 60 or over with persistent back pain, blood tests
    whose only record is a completed order with no date are not shown to be recent."""
    older = {**PATIENT, "birthDate": "1960-01-15"}
    tests = [_done({"system": LOINC, "code": code}, None, rid=rid)
             for rid, code in (("fbc", "58410-2"), ("ca", "29265-6"), ("esr", "4537-7"))]
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        older, CHRONIC_LBP, *tests))
    cards = {c.source.topic.code: c for c in evaluate(request, NOW, DEFAULT_SETTINGS).cards}
    assert cards["malignancy"].indicator == "info"
    pending = [{**t, "status": "active"} for t in tests]
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        older, CHRONIC_LBP, *pending))
    cards = {c.source.topic.code: c for c in evaluate(request, NOW, DEFAULT_SETTINGS).cards}
    assert "malignancy" not in cards


# --- 4. the emergency-MRI re-offer check reads when the sign began ------------------------

LUMBAR_MRI = {"system": SNOMED, "code": "394451000119106"}


def _ces_diagnosis(onset: str | None, recorded: str) -> dict[str, Any]:
    return _condition("ces-dx", ICD10CM, "G83.4", onset, recordedDate=recorded)


@pytest.mark.parametrize("onset", ["2026-02-26T08:00:00Z", "2026-02-26"])
def test_a_diagnosis_recorded_after_the_mri_that_made_it_does_not_re_offer_the_mri(
        onset: str) -> None:
    """Cauda equina syndrome began 3 days ago, was imaged yesterday and recorded today: the
    MRI was done after the sign began, so it answers the emergency MRI (the check reads
    the onset, not the later recordedDate; a day-only onset at the day's end)."""
    diagnosis = _ces_diagnosis(onset, "2026-03-01T09:00:00Z")
    card = _cards(RECENT_LBP, diagnosis, _done(LUMBAR_MRI, "2026-02-28T12:00:00Z"))[
        "cauda-equina"]
    assert card["indicator"] == "critical"
    assert EMERGENCY_LUMBAR_MRI not in _offered(card)
    assert "ServiceRequest/mri-done" in card["detail"]


def test_retention_that_began_after_the_last_mri_re_offers_the_emergency_mri() -> None:
    """What the check exists for: retention began 2 days ago, the lumbar MRI was 3 months
    ago."""
    card = _cards(RECENT_LBP, NEW_RETENTION, _done(LUMBAR_MRI, "2025-12-01"))["cauda-equina"]
    assert EMERGENCY_LUMBAR_MRI in _offered(card)
    assert "ServiceRequest/mri-done" not in card["detail"]


def test_a_diagnosis_with_no_onset_is_dated_by_its_recording() -> None:
    """With no onset the recording is the only time the record gives: an MRI before it
    cannot be shown to follow the sign, so the emergency MRI stays on offer (never hide an
    emergency order on a date nobody recorded)."""
    diagnosis = _ces_diagnosis(None, "2026-03-01T09:00:00Z")
    card = _cards(RECENT_LBP, diagnosis, _done(LUMBAR_MRI, "2026-02-28T12:00:00Z"))[
        "cauda-equina"]
    assert EMERGENCY_LUMBAR_MRI in _offered(card)


# --- 5. the pathway cards ask the same of a study (review of the merge, December 2026) ---

THORACIC_MRI_DONE = _study("2025-12-01", modality="MR", description="MRI thoracic spine")
LUMBAR_MRI_DONE = _study("2025-12-01", modality="MR", description="MRI lumbar spine")


def test_a_thoracic_mri_does_not_make_a_draft_lumbar_mri_a_repeat() -> None:
    """IMG-03 2.5.0: a recent thoracic-only MRI is no earlier answer to a lumbar MRI (before:
    'Review the spine MRI/CT ... before repeating it' with a suggestion to delete the
    draft); a lumbar one still is."""
    cards = _cards(CHRONIC_LBP, THORACIC_MRI_DONE, hook="order-select", drafts=(MRI_DRAFT,))
    assert "repeat-imaging" not in cards
    cards = _cards(CHRONIC_LBP, LUMBAR_MRI_DONE, hook="order-select", drafts=(MRI_DRAFT,))
    assert cards["repeat-imaging"]["indicator"] == "info"


def test_a_thoracic_mri_does_not_take_the_indicated_lumbar_mri_away() -> None:
    """IMG-02 1.9.0: radicular symptoms after 6 weeks of conservative care with a recent
    thoracic-only MRI still get the lumbar MRI suggestion (before: no card)."""
    card = _cards(RADICULOPATHY, PHYSIO, THORACIC_MRI_DONE)["imaging-indicated"]
    assert EMERGENCY_LUMBAR_MRI in _offered(card)
    assert "imaging-indicated" not in _cards(RADICULOPATHY, PHYSIO, LUMBAR_MRI_DONE)


@pytest.mark.parametrize("resource", [
    {"resourceType": "Procedure", "id": "mri-proc", "status": "completed", "subject": SUBJECT,
     "code": {"coding": [{"system": SNOMED, "code": "241645008"}]},  # MRI of spine
     "bodySite": [{"coding": [{"system": SNOMED, "code": "122495006"}]}],  # thoracic spine
     "performedDateTime": "2020-03-02"},
    {"resourceType": "ServiceRequest", "id": "mri-sr", "status": "completed",
     "intent": "order", "subject": SUBJECT,
     "code": {"coding": [{"system": LOINC, "code": "36531-2"}]},
     "bodySite": [{"text": "Thoracic spine"}], "occurrenceDateTime": "2020-03-02"},
], ids=["Procedure bodySite code", "ServiceRequest bodySite text"])
def test_the_body_site_of_an_order_names_its_region(resource: dict[str, Any]) -> None:
    """Independent review (December 2026): 'MRI of spine' with a thoracic body site is a
    thoracic MRI: it does not assess a cauda equina sign (before: the region was 'not
    recorded', so it stood the warning down)."""
    assert CES_WARNING in _topics(OLD_LBP, RETENTION, resource)



def test_a_repeat_is_not_offered_for_deletion_over_an_unreadable_red_flag() -> None:
    """IMG-03 2.8.0 (fourteenth session and its second review): a retention entry with an
    impossible date is read by no rule; the recent lumbar MRI's card no longer says "no red
    flag recorded since", nor offers the draft for deletion."""
    malformed = {"resourceType": "Observation", "id": "ret-obs", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-02-30",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002",
                                      "display": "Retention of urine"}]}}
    plain = _cards(CHRONIC_LBP, LUMBAR_MRI_DONE, hook="order-select",
                   drafts=(MRI_DRAFT,))["repeat-imaging"]
    assert plain["summary"].endswith("no red flag recorded since") and _deletes(plain)
    card = _cards(CHRONIC_LBP, LUMBAR_MRI_DONE, malformed, hook="order-select",
                  drafts=(MRI_DRAFT,))["repeat-imaging"]
    assert card["summary"].endswith("check Retention of urine in the chart first")
    assert not _deletes(card)


def _deletes(card: dict[str, Any]) -> bool:
    return any(action["type"] == "delete" for suggestion in card.get("suggestions", [])
               for action in suggestion["actions"])
