"""A coded answer is read like the same answer in words (CLINICAL.md principle 2; terminology
audit, December 2026, findings 10 and 11).

An Observation of urinary retention answered "No" in a code (HL7 v2-0136 N, SNOMED CT
373067005, LOINC LA32-8...) or whose coded value only says "Absent" in its text or display
is an absent finding: no cauda-equina card, as for ``valueString: "Absent"``. The same
holds for an entry with an unknown code (no "uncoded entry" warning), and an HLA-B27 test
answered LOINC LA6577-6 "Negative" is negative. A "Yes" answer, an unknown code with no
word of answer, and a value that names the finding itself still count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import fhir_samples
from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.record.negation import presence
from cds_rules.settings import DEFAULT_SETTINGS

PID = "answer-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
V2_0136 = "http://terminology.hl7.org/CodeSystem/v2-0136"
LOCAL = "http://hospital.example.org/cs"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RETENTION = {"coding": [{"system": SNOMED, "code": "267064002", "display": "Retention of urine"}]}
UNCODED_RETENTION = {"coding": [{"system": LOCAL, "code": "BLAD7"}], "text": "Urinary retention"}


def _coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return {"valueCodeableConcept": {"coding": [coding]}}


NO_ANSWERS = {
    "v2-0136 N": _coded(V2_0136, "N", "No"),
    "v2-0136 N, no display": _coded(V2_0136, "N"),
    "v2-0136 N, DSTU2 system": _coded("http://hl7.org/fhir/v2/0136", "N"),
    "v2-0136 N, OID": _coded("urn:oid:2.16.840.1.113883.12.136", "N"),
    "SNOMED 373067005 No": _coded(SNOMED, "373067005"),
    "LOINC LA32-8 No": _coded(LOINC, "LA32-8", "No"),
    "LOINC LA9634-2 Absent": _coded(LOINC, "LA9634-2"),
    "LOINC LA6577-6 Negative": _coded(LOINC, "LA6577-6"),
    "LOINC LA11883-8 Not detected": _coded(LOINC, "LA11883-8"),
    "text Absent": {"valueCodeableConcept": {"text": "Absent"}},
    "local code, display Absent": _coded(LOCAL, "ABS", "Absent"),
}
YES_ANSWERS = {
    "v2-0136 Y": _coded(V2_0136, "Y", "Yes"),
    "SNOMED 373066001 Yes": _coded(SNOMED, "373066001"),
    "LOINC LA33-6 Yes": _coded(LOINC, "LA33-6"),
    "LOINC LA9633-4 Present": _coded(LOINC, "LA9633-4"),
    "text Present": {"valueCodeableConcept": {"text": "Present"}},
}


def _resources(code: dict[str, Any], value: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    patient = {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
               "gender": "female"}
    sciatica = {"resourceType": "Condition", "id": "sciatica", "subject": SUBJECT,
                "code": {"coding": [{"system": SNOMED, "code": "23056005"}]},
                "onsetDateTime": "2026-11-18T09:00:00Z"}
    retention = {"resourceType": "Observation", "id": "retention", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-11-21T09:00:00Z",
                 "code": code, **value}
    return patient, sciatica, retention


def _cards(code: dict[str, Any], value: dict[str, Any]) -> dict[str, str]:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=_resources(code, value))
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(request, NOW).cards)}


@pytest.mark.parametrize("value", NO_ANSWERS.values(), ids=NO_ANSWERS.keys())
def test_retention_answered_no_gives_no_emergency(value: dict[str, Any]) -> None:
    assert presence(value) is False
    assert _cards(RETENTION, value) == {"conservative-care": "info"}


@pytest.mark.parametrize("value", NO_ANSWERS.values(), ids=NO_ANSWERS.keys())
def test_uncoded_retention_answered_no_gives_no_warning(value: dict[str, Any]) -> None:
    assert _cards(UNCODED_RETENTION, value) == {"conservative-care": "info"}


@pytest.mark.parametrize("value", YES_ANSWERS.values(), ids=YES_ANSWERS.keys())
def test_retention_answered_yes_is_still_an_emergency(value: dict[str, Any]) -> None:
    assert presence(value) is True
    assert _cards(RETENTION, value) == {"cauda-equina": "critical"}
    assert _cards(UNCODED_RETENTION, value) == {"cauda-equina": "warning"}


@pytest.mark.parametrize("value", [
    _coded(LOCAL, "Q17"),  # an answer code the service does not know, no words
    _coded(LOCAL, "Q17", "Severe"),  # words that are no answer
    _coded(V2_0136, "NA"),  # not a yes/no code of the table
    _coded(LOINC, "LA33-8"),  # no LOINC answer the service knows (not LA32-8)
], ids=["unknown code", "unknown code, other words", "v2-0136 other code", "other LOINC"])
def test_an_unknown_answer_does_not_hide_the_finding(value: dict[str, Any]) -> None:
    """An answer the service cannot read says nothing either way: the coded finding stands
    (principle 1), and an uncoded entry keeps its warning."""
    assert presence(value) is None
    assert _cards(RETENTION, value) == {"cauda-equina": "critical"}
    assert _cards(UNCODED_RETENTION, value) == {"cauda-equina": "warning"}


@pytest.mark.parametrize("value", [
    _coded(LOCAL, "R2", "Not improving"),
    _coded(LOCAL, "R3", "Not resolved"),
    {"valueCodeableConcept": {"text": "No improvement since catheter removed"}},
    {"valueCodeableConcept": {"text": "Not able to void since 6am"}},
], ids=["Not improving", "Not resolved", "No improvement", "Not able to void"])
def test_a_sentence_in_a_coded_value_is_no_answer(value: dict[str, Any]) -> None:
    """A coded value's displays are read as one answer word only, never as a sentence: its
    name may give the course ("Not improving"), and reading it as "absent" would silence a
    cauda equina emergency (independent review of this change). Its text is read as a
    ``valueString`` sentence is, and one of the course or output is no denial ("No urinary
    retention" as text, with no coding a value set knows, is: test_coded_value_text.py)."""
    assert presence(value) is None
    assert _cards(RETENTION, value) == {"cauda-equina": "critical"}
    assert _cards(UNCODED_RETENTION, value) == {"cauda-equina": "warning"}


def test_a_coded_diagnosis_whose_name_says_negative_is_still_the_diagnosis() -> None:
    """SNOMED CT 128826001 "Atypical chronic myeloid leukemia, BCR/ABL negative" (in the
    cancer value set) as the value of a diagnosis Observation is a cancer, not an answer."""
    diagnosis = {"coding": [{"system": LOINC, "code": "29308-4", "display": "Diagnosis"}]}
    value = _coded(SNOMED, "128826001",
                   "Atypical chronic myeloid leukemia, BCR/ABL negative")
    assert presence(value) is None
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=_resources(diagnosis, value))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert [f.concept for f in record.facts if f.source == "Observation/retention"] == [
        "cancer"]


@pytest.mark.parametrize("component_value", [
    {"valueBoolean": True}, {"valueString": "Yes - 800 ml post-void residual"},
    {"valueString": "Unknown"}, {"valueQuantity": {"value": 800, "unit": "mL"}},
], ids=["true", "yes with a volume", "unknown", "a quantity"])
def test_a_component_with_a_value_answers_for_itself(component_value: dict[str, Any]) -> None:
    """A panel answered No (v2-0136 N) or with no value (dataAbsentReason) whose retention
    component has a value of its own: the component speaks for itself (second review: a
    component value that was not one answer word fell back to the panel's No)."""
    panel = {"coding": [{"system": LOCAL, "code": "BLADDER"}], "text": "Bladder screen"}
    component = {"code": RETENTION, **component_value}
    for panel_value in (_coded(V2_0136, "N", "No"), {"dataAbsentReason": {"text": "not done"}}):
        assert _cards(panel, {**panel_value, "component": [component]}) == {
            "cauda-equina": "critical"}, panel_value


def test_a_component_without_a_value_takes_the_panels_answer_but_not_its_missing_value() -> None:
    panel = {"coding": [{"system": LOCAL, "code": "BLADDER"}], "text": "Bladder screen"}
    silent = {"code": RETENTION}
    assert _cards(panel, {**_coded(V2_0136, "N", "No"), "component": [silent]}) == {
        "conservative-care": "info"}
    assert _cards(panel, {"dataAbsentReason": {"text": "not done"}, "component": [silent]}) == {
        "cauda-equina": "critical"}


@pytest.mark.parametrize("text", ["No, denies", "No!", "Absent; none", "Denies"])
def test_answer_words_joined_by_punctuation_are_one_answer(text: str) -> None:
    assert presence({"valueCodeableConcept": {"text": text}}) is False
    assert _cards(RETENTION, {"valueCodeableConcept": {"text": text}}) == {
        "conservative-care": "info"}


def test_explicit_boolean_comes_before_a_code_and_a_code_before_words() -> None:
    yes_code_no_words = {"valueCodeableConcept": {
        "coding": [{"system": V2_0136, "code": "Y", "display": "No"}], "text": "Absent"}}
    assert presence(yes_code_no_words) is True
    assert presence({"valueBoolean": False, **_coded(V2_0136, "Y")}) is False
    assert presence({"valueString": "absent", **_coded(LOCAL, "X", "Present")}) is False


def test_a_value_that_names_the_finding_is_still_read() -> None:
    """A generic finding Observation whose value is the finding (SNOMED urinary retention)
    states nothing absent: its display is no answer word."""
    finding = {"coding": [{"system": SNOMED, "code": "404684003", "display": "Clinical finding"}]}
    value = {"valueCodeableConcept": RETENTION}
    assert presence(value) is None
    assert _cards(finding, value) == {"cauda-equina": "critical"}


def _hla_b27(value: dict[str, Any]) -> list[Any]:
    hla = {"resourceType": "Observation", "id": "hla", "status": "final", "subject": SUBJECT,
           "effectiveDateTime": "2026-11-01T09:00:00Z",
           "code": {"coding": [{"system": LOINC, "code": "4821-5"}]}, **value}
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(hla,))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    return [(f.value, f.describe()) for f in record.facts if f.concept == "hla_b27"]


@pytest.mark.parametrize("value", [
    _coded(LOINC, "LA6577-6", "Negative"),
    {"valueCodeableConcept": {"text": "Negative"}},
    {"valueCodeableConcept": {"text": "HLA-B27 not detected"}},
    _coded(LOINC, "LA11883-8", "Not detected"),
], ids=["LA6577-6", "text Negative", "text not detected", "LA11883-8"])
def test_hla_b27_coded_negative_is_negative(value: dict[str, Any]) -> None:
    [(number, line)] = _hla_b27(value)
    assert number == 0.0
    assert "(negative)" in line


@pytest.mark.parametrize("value", [
    _coded(LOINC, "LA6576-8", "Positive"),
    {"valueCodeableConcept": {"text": "Positive"}},
    {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6576-8"}],
                              "text": "Positive (reference: Negative)"}},
], ids=["LA6576-8", "text Positive", "code Positive, words mention Negative"])
def test_hla_b27_coded_positive_stays_positive(value: dict[str, Any]) -> None:
    [(number, line)] = _hla_b27(value)
    assert number == 1.0
    assert "(positive)" in line


@pytest.mark.parametrize("scenario_id", ["nm-ibp-hla-b27-loinc-answer-negative",
                                         "nm-urinary-retention-coded-answer-no"])
def test_scenarios_answered_no_get_the_conservative_card(scenario_id: str) -> None:
    """Three NG65 features and HLA-B27 answered LA6577-6: no referral card (before: a
    referral card saying 'HLA-B27 (positive)'); retention answered v2-0136 N: no emergency."""
    scenario = fhir_samples.load(scenario_id)
    resources = [r for key in fhir_samples.PREFETCH_KEYS
                 for r in fhir_samples._resources_from(scenario.prefetch.get(key))]
    request = HookRequest(hook=scenario.hook, patient_id=scenario.patient_id,
                          resources=tuple(resources))
    cards = to_json(evaluate(request, scenario.now).cards)
    assert {c["source"]["topic"]["code"]: c["indicator"] for c in cards} == {
        "conservative-care": "info"}
