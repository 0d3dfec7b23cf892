"""Red flags in words the codes of an entry do not say (UNCODED-* 1.3.0, -MAL / -VV 1.4.0):
beside a recognised coding (audit finding 2), in a resolved history (finding 5), read per
sign as the coded concept is (finding 6), in an Observation's components (finding 7).

Each test that gives a card failed before the fix (the conservative card came instead);
the near misses show what is still not read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate
from cds_rules import uncoded as uncoded_phrases
from cds_rules.concepts import CONCEPTS
from cds_rules.model import FactStatus, Topic
from cds_rules.record import build_record
from cds_rules.rules.fracture import CORD_INJURY_FRACTURE
from cds_rules.settings import DEFAULT_SETTINGS

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
LOCAL = "http://hospital.example.org/fhir/CodeSystem/local-problems"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
M5450 = {"system": ICD10CM, "code": "M54.50", "display": "Low back pain, unspecified"}


def _request(*extra: dict[str, Any]) -> HookRequest:
    resources = [
        {"resourceType": "Patient", "id": "p", "birthDate": "1966-05-01", "gender": "female"},
        {"resourceType": "Condition", "id": "lbp", "subject": {"reference": "Patient/p"},
         "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
         "onsetDateTime": "2026-02-20"},
        *extra,
    ]
    return HookRequest(hook="patient-view", patient_id="p", resources=tuple(resources))


def _condition(code: dict[str, Any], onset: str = "2026-02-28", status: str = "active",
               verification: str = "confirmed") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": status}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": verification}]},
            "code": code, "onsetDateTime": onset}


def _observation(code: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", "status": "final",
            "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-02-28",
            "code": code, **elements}


def _cards(*extra: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((c.topic, c.indicator) for c in evaluate(_request(*extra), NOW).cards)


def _uncoded_facts(*extra: dict[str, Any]) -> list[str]:
    record = build_record(_request(*extra), NOW, DEFAULT_SETTINGS)
    return [f.concept for f in record.facts if f.concept.startswith("uncoded:")]


CONSERVATIVE = [("conservative-care", "info")]
CES_WARNING = [("cauda-equina", "warning")]


# Finding 2: a recognised coding does not hide the words beside it.

def test_a_local_coding_beside_a_recognised_one_is_read() -> None:
    code = {"coding": [{"system": LOCAL, "code": "PRB-30412",
                        "display": "Urinary retention due to cauda equina compression"}, M5450]}
    assert _cards(_condition(code)) == CES_WARNING


def test_the_text_of_a_coded_entry_is_read() -> None:
    code = {"coding": [M5450], "text": "Low back pain with new urinary retention"}
    assert _cards(_condition(code)) == CES_WARNING


def test_a_coded_observation_whose_text_names_another_family_is_read() -> None:
    """A finding coded SNOMED low back pain whose text says more: its words are read."""
    obs = _observation({"coding": [{"system": SNOMED, "code": "279039007"}],
                        "text": "Low back pain; saddle anaesthesia reported"})
    assert _cards(obs) == CES_WARNING


def test_a_loinc_test_text_is_still_not_read_beside_its_value() -> None:
    """A known LOINC test (body temperature): its name and text name a test, not a finding."""
    obs = _observation({"coding": [{"system": LOINC, "code": "8310-5"}],
                        "text": "Temperature (saddle anaesthesia clinic)"},
                       valueQuantity={"value": 36.8, "unit": "Cel",
                                      "system": "http://unitsofmeasure.org", "code": "Cel"})
    assert _cards(obs) == CONSERVATIVE


def test_a_family_the_entry_codes_gives_no_second_uncoded_card() -> None:
    code = {"coding": [{"system": SNOMED, "code": "267064002", "display": "Retention of urine"}],
            "text": "Acute urinary retention"}
    assert _cards(_condition(code)) == [("cauda-equina", "critical")]
    assert _uncoded_facts(_condition(code)) == []


def test_other_families_in_the_words_of_a_coded_entry_still_count() -> None:
    """Coded cancer (MAL) whose text also names cord compression: the cord family is read."""
    code = {"coding": [{"system": SNOMED, "code": "363346000"}],
            "text": "Metastatic prostate cancer with cord compression"}
    assert _uncoded_facts(_condition(code)) == ["uncoded:spinal-cord-compression"]


def test_a_recognised_coding_display_denying_myelopathy_is_no_cord_sign() -> None:
    """ICD-10-CM M47.816's own display says 'without myelopathy': read since UNCODED-CORD
    1.12.0 (a known code's display is the sender's words, test_known_code_display), neither
    it nor a text repeating it is a cord sign."""
    display = "Spondylosis without myelopathy or radiculopathy, lumbar region"
    code = {"coding": [{"system": ICD10CM, "code": "M47.816", "display": display}],
            "text": display.upper()}
    assert _cards(_condition(code)) == CONSERVATIVE


@pytest.mark.parametrize(
    ("text", "verification"),
    [("Low back pain. No urinary retention", "confirmed"),
     ("Low back pain with new urinary retention", "refuted"),
     ("Low back pain with new urinary retention", "entered-in-error")],
    ids=["negated", "refuted", "entered-in-error"])
def test_near_misses_beside_a_recognised_coding(text: str, verification: str) -> None:
    code = {"coding": [M5450], "text": text}
    assert _cards(_condition(code, verification=verification)) == CONSERVATIVE


def test_a_coded_entry_is_not_counted_as_unrecognised() -> None:
    code = {"coding": [M5450], "text": "Low back pain with new urinary retention"}
    record = build_record(_request(_condition(code)), NOW, DEFAULT_SETTINGS)
    assert record.quality.unrecognised_codes == 0


# Finding 5: a history in words whatever its clinical status, as the coded history.

@pytest.mark.parametrize("status", ["remission", "resolved", "inactive"])
def test_an_uncoded_cancer_counts_whatever_its_clinical_status(status: str) -> None:
    entry = _condition({"text": "Metastatic breast carcinoma"}, onset="2023-01-10",
                       status=status)
    assert _cards(entry) == [("malignancy", "warning")]
    record = build_record(_request(entry), NOW, DEFAULT_SETTINGS)
    (hint,) = [f for f in record.facts if f.concept == "uncoded:malignancy"]
    assert hint.status is FactStatus.HISTORY  # shown "[history]" on the card


def test_an_abated_uncoded_cancer_counts() -> None:
    entry = _condition({"text": "Metastatic breast carcinoma"}, onset="2020-01-10")
    del entry["clinicalStatus"]
    entry["abatementDateTime"] = "2021-06-01"
    assert _cards(entry) == [("malignancy", "warning")]


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_uncoded_cancer_does_not_count(verification: str) -> None:
    entry = _condition({"text": "Metastatic breast carcinoma"}, onset="2023-01-10",
                       verification=verification)
    assert _cards(entry) == CONSERVATIVE


@pytest.mark.parametrize("text", ["Urinary retention", "Abdominal aortic aneurysm 4.5 cm"])
def test_a_resolved_symptom_or_aneurysm_does_not_count(text: str) -> None:
    """A resolved symptom is history (as coded); VV-01 reads only a current aneurysm
    (record.having), so a resolved (repaired) one in words does not count either."""
    assert _cards(_condition({"text": text}, status="resolved")) == CONSERVATIVE


# Finding 6: per sign, as each family's coded rules read the concept.

@pytest.mark.parametrize("text", ["Osteoporosis", "Osteoporotic wedge fracture T12"])
def test_osteoporosis_or_a_fragility_fracture_counts_at_any_age(text: str) -> None:
    """FRAC-01 reads osteoporosis and a fragility fracture with record.ever."""
    result = evaluate(_request(_condition({"text": text}, onset="2024-05-10")), NOW)
    assert [(c.topic, c.indicator) for c in result.cards] == [("fracture", "warning")]
    assert "UNCODED_TEXT_WINDOW_DAYS" not in result.cards[0].detail


OLD_SIGNS = [("Lumbar discitis", "infection"), ("Saddle numbness", "cauda-equina"),
             ("Cauda equina syndrome", "cauda-equina"),
             ("Right foot drop", "progressive-neurological-deficit"),
             ("Cervical myelopathy", "spinal-cord-compression")]


@pytest.mark.parametrize(("text", "topic"), OLD_SIGNS)
def test_an_old_active_sign_never_imaged_is_a_warning_as_coded(text: str, topic: str) -> None:
    """UNCODED-CES / -CORD / -NEURO / -INF 1.5.0: a Condition still active, older than the
    window, with no spine MRI since it began, counts as the coded rules count it (CES-02,
    CORD-02, NEURO-02, INF-01: 'confirm it has been assessed'); before, the conservative
    card followed."""
    result = evaluate(_request(_condition({"text": text}, onset="2024-05-10")), NOW)
    assert [(c.topic, c.indicator) for c in result.cards] == [(topic, "warning")]
    assert "recorded 2024-05-10: still active, older than the 'new' window, and no spine " \
           "MRI since: confirm it has been assessed." in result.cards[0].detail
    assert "BACKPAIN_CDS_UNCODED_TEXT_WINDOW_DAYS" in result.cards[0].detail


@pytest.mark.parametrize(("text", "topic"), OLD_SIGNS)
def test_an_old_sign_imaged_since_keeps_the_window(text: str, topic: str) -> None:
    mri = {"resourceType": "ImagingStudy", "id": "mri", "status": "available",
           "subject": {"reference": "Patient/p"}, "started": "2024-06-01",
           "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                         "code": "MR"}],
           "description": "MRI lumbar spine"}
    assert _cards(_condition({"text": text}, onset="2024-05-10"), mri) == CONSERVATIVE


def test_every_history_sign_and_coded_family_names_real_things() -> None:
    signs = {sign for phrases in uncoded_phrases._PHRASES.values() for sign, _ in phrases}
    assert set(uncoded_phrases.HISTORY_SIGNS) <= signs
    assert set(uncoded_phrases._CODED_FAMILIES) <= set(CONCEPTS)


# Finding 7: an Observation's components in words, each with its own presence.

PANEL = {"text": "Bladder and bowel assessment"}


def test_a_component_in_words_is_read() -> None:
    obs = _observation(PANEL, component=[{"code": {"text": "Saddle anaesthesia"},
                                          "valueBoolean": True}])
    assert _cards(obs) == CES_WARNING


@pytest.mark.parametrize("component", [
    {"code": {"text": "Saddle anaesthesia"}, "valueBoolean": False},
    {"code": {"text": "Saddle anaesthesia"}, "valueString": "absent"},
    {"code": {"text": "Saddle anaesthesia"},
     "dataAbsentReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "data-absent-reason", "code": "not-asked"}]}},
    {"code": {"coding": [{"system": LOINC, "code": "10334-1",
                          "display": "Cancer Ag 125 [Units/volume] in Serum or Plasma"}]},
     "valueQuantity": {"value": 12, "unit": "U/mL"}},
], ids=["false", "absent-in-words", "data-absent", "loinc-test-name"])
def test_a_component_stated_absent_or_naming_a_test_does_not_count(component: dict) -> None:
    assert _cards(_observation(PANEL, component=[component])) == CONSERVATIVE


def test_a_component_value_in_words_is_read_under_a_test_name() -> None:
    obs = _observation(PANEL, component=[
        {"code": {"coding": [{"system": LOINC, "code": "10334-1"}]},
         "valueString": "Metastatic ovarian carcinoma"}])
    assert _cards(obs) == [("malignancy", "warning")]


def test_a_component_beside_a_known_component_is_read() -> None:
    """A panel with a known temperature component and a saddle sign in words."""
    obs = _observation(PANEL, component=[
        {"code": {"coding": [{"system": LOINC, "code": "8310-5"}]},
         "valueQuantity": {"value": 36.8, "unit": "Cel", "system": "http://unitsofmeasure.org",
                           "code": "Cel"}},
        {"code": {"text": "Saddle anaesthesia"}, "valueBoolean": True}])
    assert _cards(obs) == CES_WARNING


def test_every_concept_a_fracture_rule_reads_gives_its_family() -> None:
    """An entry coded with any concept FRAC-01 reads (a site code may map to the cord-injury
    fracture alone) gives the fracture family, so its words make no second, uncoded card."""
    for concept in ("osteoporosis", "fragility_fracture", CORD_INJURY_FRACTURE):
        assert uncoded_phrases.families_of([concept]) == {Topic.FRACTURE}, concept


def test_an_old_cauda_equina_sign_in_words_is_not_assessed_by_a_thoracic_mri() -> None:
    """As CES-02 reads the coded sign: only an MRI that may image the lumbar spine assesses
    a cauda equina sign; a thoracic-only one leaves the warning."""
    thoracic = {"resourceType": "ImagingStudy", "id": "mri", "status": "available",
                "subject": {"reference": "Patient/p"}, "started": "2024-06-01",
                "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                              "code": "MR"}],
                "description": "MRI thoracic spine"}
    cards = _cards(_condition({"text": "Saddle numbness"}, onset="2024-05-10"), thoracic)
    assert cards == CES_WARNING
