"""An indeterminate HLA-B27 result is no result (NICE NG65; CLINICAL.md principle 3).

An HLA-B27 test answered "Indeterminate", "Equivocal", "Inconclusive" or "Unknown" (a
coded value such as LOINC LA11884-6 or SNOMED CT 82334004, those words in the value, or
the interpretation IND) was read as positive: three NG65 features gave a rheumatology
referral card whose 'Why' said "HLA-B27 (positive)". It is now no result: no fact, so
SPA-02 ("Test HLA-B27 (refer if positive)") applies as when no test is on record. A result
answered positive or negative in a code or a boolean is read as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.model import LOCAL_FINDING_SYSTEM
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

PID = "hla-ind-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
V2_0078 = "http://terminology.hl7.org/CodeSystem/v2-0078"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V3_NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
LOCAL = "http://hospital.example.org/cs"
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return {"valueCodeableConcept": {"coding": [coding]}}


def _interpretation(code: str, system: str = V3_INTERPRETATION) -> dict[str, Any]:
    return {"interpretation": [{"coding": [{"system": system, "code": code}]}]}


INDETERMINATE = {
    "LOINC LA11884-6 Indeterminate": _coded(LOINC, "LA11884-6"),
    "LOINC LA11885-3 Equivocal": _coded(LOINC, "LA11885-3"),
    "LOINC LA9663-1 Inconclusive": _coded(LOINC, "LA9663-1"),
    "LOINC LA4489-6 Unknown": _coded(LOINC, "LA4489-6"),
    "SNOMED 82334004 Indeterminate": _coded(SNOMED, "82334004"),
    "SNOMED 42425007 Equivocal": _coded(SNOMED, "42425007"),
    "SNOMED 419984006 Inconclusive": _coded(SNOMED, "419984006"),
    "SNOMED 280416009 Indeterminate result": _coded(SNOMED, "280416009"),
    "SNOMED 280414007 Equivocal result": _coded(SNOMED, "280414007"),
    "SNOMED 261665006 Unknown": _coded(SNOMED, "261665006"),
    "v2-0078 IND": _coded(V2_0078, "IND"),
    "ObservationInterpretation IND as value": _coded(V3_INTERPRETATION, "IND"),
    "NullFlavor UNK": _coded(V3_NULL_FLAVOR, "UNK"),
    "valueString Indeterminate": {"valueString": "Indeterminate"},
    "valueString Equivocal": {"valueString": "equivocal"},
    "valueString sentence": {"valueString": "HLA-B27 result inconclusive, please repeat"},
    "valueString Unknown": {"valueString": "Unknown"},
    "text Indeterminate": {"valueCodeableConcept": {"text": "Indeterminate"}},
    "local code, display Equivocal": _coded(LOCAL, "EQ", "Equivocal"),
    "interpretation IND": _interpretation("IND"),
    "interpretation IND (v2-0078)": _interpretation("IND", V2_0078),
    "interpretation E Equivocal": _interpretation("E"),
    "value without answer, interpretation IND": {"valueString": "See comment",
                                                 **_interpretation("IND")},
    "words Positive, interpretation IND": {"valueString": "Positive",
                                           **_interpretation("IND")},
}

STILL_READ = {
    "LOINC LA6576-8 Positive": (_coded(LOINC, "LA6576-8"), 1.0),
    "LOINC LA6577-6 Negative": (_coded(LOINC, "LA6577-6"), 0.0),
    "valueBoolean true": ({"valueBoolean": True}, 1.0),
    "valueString positive": ({"valueString": "HLA-B27 positive"}, 1.0),
    "valueString not detected": ({"valueString": "HLA-B27 not detected"}, 0.0),
    "interpretation POS": (_interpretation("POS"), 1.0),
    "coded Positive wins over interpretation IND": (
        {**_coded(LOINC, "LA6576-8"), **_interpretation("IND")}, 1.0),
    "coded Negative wins over words": (
        {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6577-6"}],
                                  "text": "Negative (previous result equivocal)"}}, 0.0),
}


def _resources(hla_value: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """A 44-year-old with low back pain for 5 months (onset at 43) and exactly three NICE
    NG65 features (night waking, alternating buttock pain, NSAID response)."""
    patient = {"resourceType": "Patient", "id": PID, "birthDate": "1981-11-21",
               "gender": "male"}
    back_pain = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
                 "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
                 "onsetDateTime": "2025-10-02T10:00:00Z"}
    features = [
        {"resourceType": "Observation", "id": f"f-{code}", "status": "final",
         "subject": SUBJECT, "effectiveDateTime": "2026-02-24T10:00:00Z",
         "code": {"coding": [{"system": LOCAL_FINDING_SYSTEM, "code": code}]},
         "valueBoolean": True}
        for code in ("night-waking-second-half", "alternating-buttock-pain", "nsaid-response")]
    hla = {"resourceType": "Observation", "id": "hla", "status": "final", "subject": SUBJECT,
           "effectiveDateTime": "2026-02-09T10:00:00Z",
           "code": {"coding": [{"system": LOINC, "code": "4821-5"}]}, **hla_value}
    return patient, back_pain, *features, hla


def _request(hla_value: dict[str, Any]) -> HookRequest:
    return HookRequest(hook="patient-view", patient_id=PID, resources=_resources(hla_value))


def _results(hla_value: dict[str, Any]) -> list[float | None]:
    record = build_record(_request(hla_value), NOW, DEFAULT_SETTINGS)
    return [f.value for f in record.facts if f.concept == "hla_b27"]


def _cards(hla_value: dict[str, Any]) -> list[dict[str, Any]]:
    return to_json(evaluate(_request(hla_value), NOW).cards)


@pytest.mark.parametrize("value", INDETERMINATE.values(), ids=INDETERMINATE.keys())
def test_an_indeterminate_result_is_no_result(value: dict[str, Any]) -> None:
    assert _results(value) == []


@pytest.mark.parametrize("value", INDETERMINATE.values(), ids=INDETERMINATE.keys())
def test_three_features_and_an_indeterminate_result_ask_for_the_test(
        value: dict[str, Any]) -> None:
    """SPA-02 'Test HLA-B27', not SPA-01's referral saying 'HLA-B27 (positive)'."""
    [card] = [c for c in _cards(value)
              if c["source"]["topic"]["code"] == "inflammatory-back-pain"]
    assert card["summary"].startswith("Test HLA-B27")
    assert "(positive)" not in card["detail"]


@pytest.mark.parametrize(("value", "expected"), STILL_READ.values(), ids=STILL_READ.keys())
def test_a_positive_or_negative_result_is_read_as_before(value: dict[str, Any],
                                                         expected: float) -> None:
    assert _results(value) == [expected]


@pytest.mark.parametrize("text", ["Positive (B*27 subtype unknown)",
                                  "Detected - clinical significance unknown"])
def test_unknown_beside_a_result_does_not_undo_it(text: str) -> None:
    """Independent review (December 2026): 'unknown' is no result only as the whole answer;
    beside 'Positive' it qualifies a positive result (before this mend: no result)."""
    assert _results({"valueString": text}) == [1.0]
    assert _results({"valueString": "Result unknown"}) == []


@pytest.mark.parametrize("text", ["Result: unknown", "HLA-B27 unknown", "Status unknown",
                                  "Unknown (sample haemolysed)", "Pending", "Test cancelled",
                                  "Not known"])
def test_words_that_give_no_result_are_no_result(text: str) -> None:
    """Second independent review (December 2026): a result in words is positive only when
    it says so; before, any words without a negative one were read as positive."""
    assert _results({"valueString": text}) == []


@pytest.mark.parametrize(("text", "expected"), [("+ve", 1.0), ("HLA-B27 +ve", 1.0),
                                                ("B*27:05", 1.0), ("Not positive", 0.0),
                                                ("-ve", 0.0)])
def test_short_result_words_are_read(text: str, expected: float) -> None:
    assert _results({"valueString": text}) == [expected]
