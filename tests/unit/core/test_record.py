"""The patient record builder: FHIR R4 JSON -> facts and orders with their clinical meaning.

Each safety-principle bullet of CLINICAL.md (2: negation and status; 5: messy data) has a
test here that fails if the behaviour is broken.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_rules.bundles import (
    is_error_outcome,
    is_operation_outcome,
    parse_reference,
    resources_from,
)
from cds_rules.engine import HookRequest
from cds_rules.model import LOCAL_FINDING_SYSTEM, FactStatus, PatientRecord
from cds_rules.record import build_record
from cds_rules.record import builder as record_module
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from cds_rules.valuesets import CPT, ICD10CM, LOINC, RXNORM, SNOMED, UCUM
from tests.conftest import SYNTHEA_DIR, require

PID = "p1"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SUBJECT = {"reference": f"Patient/{PID}"}
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

# ----------------------------------------------------------------------------- builders


def coding(code: str, system: str = SNOMED, display: str = "") -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PID, "birthDate": "1970-05-01",
            "gender": "female", **extra}


def condition(code: str, /, system: str = SNOMED, rid: str = "c1", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": SUBJECT,
            "code": {"coding": [coding(code, system, "finding")]},
            "onsetDateTime": "2026-06-10T08:00:00Z", **extra}


def status(kind: str, code: str) -> dict[str, Any]:
    system = f"http://terminology.hl7.org/CodeSystem/condition-{kind}"
    return {"coding": [{"system": system, "code": code}]}


def observation(code: str, /, system: str = SNOMED, rid: str = "o1",
                **extra: Any) -> dict[str, Any]:
    base = {"resourceType": "Observation", "id": rid, "status": "final", "subject": SUBJECT,
            "code": {"coding": [coding(code, system, "observed")]},
            "effectiveDateTime": "2026-06-14T09:00:00Z"}
    base.update(extra)
    return base


def temperature(value: float, unit_code: str | None, rid: str = "t1", **extra: Any):
    quantity: dict[str, Any] = {"value": value}
    if unit_code is not None:
        quantity.update(unit=unit_code, system=UCUM, code=unit_code)
    return observation("8310-5", LOINC, rid, valueQuantity=quantity, **extra)


def med_request(code: str, display: str, rid: str = "m1", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "active",
            "intent": "order", "subject": SUBJECT,
            "medicationCodeableConcept": {"coding": [coding(code, RXNORM, display)]},
            "authoredOn": "2026-01-01", **extra}


def service_request(code: str, system: str = CPT, rid: str = "sr1", state: str = "active",
                    **extra: Any) -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": rid, "status": state, "intent": "order",
            "subject": SUBJECT, "code": {"coding": [coding(code, system, "ordered")]},
            "authoredOn": "2026-06-01", **extra}


def build(*resources: Any, drafts: tuple[Any, ...] = (), gaps: tuple[str, ...] = (),
          now: datetime = NOW) -> PatientRecord:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=tuple(resources),
                          draft_orders=drafts, data_gaps=gaps)
    return build_record(request, now, DEFAULT_SETTINGS)


def facts(record: PatientRecord, concept: str):
    return [f for f in record.facts if f.concept == concept]


# ----------------------------------------------------------------------------- Patient


def test_patient_demographics_and_partial_birth_date():
    record = build(patient(birthDate="1970", gender="male"))
    assert record.birth_date == datetime(1970, 1, 1, tzinfo=UTC)
    assert record.sex == "male"
    assert record.age == 56
    assert record.quality.resources_used == 1


@pytest.mark.parametrize(("extra", "deceased"), [
    ({}, False),
    ({"deceasedBoolean": False}, False),
    ({"deceasedBoolean": True}, True),
    ({"deceasedDateTime": "2025-01-02"}, True),
])
def test_patient_deceased(extra: dict[str, Any], deceased: bool):
    """Clinical review 2026: a deceased patient gets no cards (engine); the record says so."""
    assert build(patient(**extra)).deceased is deceased


def test_condition_keeps_its_recorded_date_when_it_differs_from_onset():
    cond = condition("192970008", onsetDateTime="2024-01-01", recordedDate="2026-06-14")
    fact = next(f for f in build(patient(), cond).facts if f.concept == "cauda_equina_syndrome")
    assert fact.when == datetime(2024, 1, 1, tzinfo=UTC)
    assert fact.recorded == datetime(2026, 6, 14, tzinfo=UTC)
    same = condition("192970008", rid="c2", onsetDateTime="2026-06-14T00:00:00Z",
                     recordedDate="2026-06-14T00:00:00Z")
    fact = next(f for f in build(patient(), same).facts if f.concept == "cauda_equina_syndrome")
    assert fact.recorded is None


def test_missing_patient_leaves_age_unknown():
    record = build(condition("279039007"))
    assert record.birth_date is None and record.age is None and record.sex == "unknown"


def test_another_patients_patient_resource_is_dropped():
    record = build(patient(id="someone-else", birthDate="1930-01-01"))
    assert record.birth_date is None
    assert record.quality.other_patient_dropped == 1


# ----------------------------------------------------------------------------- Condition status


@pytest.mark.parametrize("clinical", ["active", "recurrence", "relapse", None])
def test_active_or_unstated_condition_is_current(clinical):
    extra = {"clinicalStatus": status("clinical", clinical)} if clinical else {}
    record = build(condition("192970008", **extra))
    (fact,) = facts(record, "cauda_equina_syndrome")
    assert fact.status is FactStatus.CURRENT
    assert fact.source == "Condition/c1" and fact.resource_type == "Condition"
    assert (fact.system, fact.code) == (SNOMED, "192970008")
    assert record.having("cauda_equina_syndrome") == [fact]


@pytest.mark.parametrize("clinical", ["resolved", "inactive", "remission"])
def test_resolved_condition_is_history_not_current(clinical):
    record = build(condition("363346000", clinicalStatus=status("clinical", clinical)))
    (fact,) = facts(record, "cancer")
    assert fact.status is FactStatus.HISTORY
    assert record.having("cancer") == []  # not a current symptom ...
    assert record.ever("cancer") == [fact]  # ... but still a history of cancer


def test_abatement_in_the_past_without_clinical_status_is_history():
    record = build(condition("279039007", abatementDateTime="2026-01-01"))
    assert facts(record, "low_back_pain")[0].status is FactStatus.HISTORY


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_or_erroneous_condition_never_becomes_a_fact(verification):
    record = build(condition("192970008", verificationStatus=status("ver-status", verification),
                             clinicalStatus=status("clinical", "active")))
    assert record.facts == []
    assert record.having("cauda_equina_syndrome") == []


def test_confirmed_and_provisional_conditions_count():
    for verification in ("confirmed", "provisional", "differential", "unconfirmed"):
        record = build(condition("192970008",
                                 verificationStatus=status("ver-status", verification)))
        assert len(facts(record, "cauda_equina_syndrome")) == 1, verification


def test_personal_history_code_is_history_even_when_active():
    record = build(condition("Z85.46", ICD10CM, clinicalStatus=status("clinical", "active")))
    (fact,) = facts(record, "cancer")
    assert fact.status is FactStatus.HISTORY


def test_icd10cm_codes_with_or_without_dot():
    record = build(condition("C79.51", ICD10CM, rid="a"), condition("M5450", ICD10CM, rid="b"))
    assert {f.concept for f in record.facts} == {"cancer", "bone_metastasis", "low_back_pain"}


def test_unknown_codes_are_counted_not_used():
    record = build(condition("444814009"), observation("8302-2", LOINC))
    assert record.facts == []
    assert record.quality.unrecognised_codes == 2
    assert record.quality.resources_used == 0


# ----------------------------------------------------------------------------- Condition time


def test_onset_forms():
    birth = patient(birthDate="1970-05-01")
    record = build(
        birth,
        condition("279039007", rid="dt", onsetDateTime="2026-06-01T10:00:00+02:00"),
        condition("279039007", rid="period", onsetDateTime=None,
                  onsetPeriod={"start": "2026-05"}),
        condition("279039007", rid="age", onsetDateTime=None,
                  onsetAge={"value": 56, "unit": "years", "system": UCUM, "code": "a"}),
        condition("279039007", rid="string", onsetDateTime=None, onsetString="last winter",
                  recordedDate="2026-04-02"),
        condition("279039007", rid="none", onsetDateTime=None),
    )
    when = {f.source.split("/")[1]: f.when for f in record.facts}
    assert when["dt"] == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert when["period"] == datetime(2026, 5, 1, tzinfo=UTC)
    assert when["age"] is not None and when["age"].date().isoformat().startswith("2026-05")
    assert when["string"] == datetime(2026, 4, 2, tzinfo=UTC)  # onsetString ignored
    assert when["none"] is None


def test_onset_age_needs_the_birth_date_whatever_the_order():
    onset_age = condition("279039007", onsetDateTime=None, onsetAge={"value": 50, "code": "a"})
    record = build(onset_age, patient(birthDate="1970-05-01"))  # Patient after the Condition
    (fact,) = facts(record, "low_back_pain")
    assert fact.when is not None and fact.when.year == 2020


def test_zoneless_and_partial_datetimes_are_read_as_utc():
    record = build(
        condition("279039007", rid="nozone", onsetDateTime="2026-06-01T10:00:00"),
        condition("279039007", rid="partial", onsetDateTime="2026-03"),
        observation("386661006", rid="o-nozone", effectiveDateTime="2026-06-14 07:30"),
    )
    when = {f.source: f.when for f in record.facts}
    assert when["Condition/nozone"] == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert when["Condition/partial"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert when["Observation/o-nozone"] == datetime(2026, 6, 14, 7, 30, tzinfo=UTC)
    assert record.quality.skipped_invalid == 0


# ----------------------------------------------------------------------------- laterality


@pytest.mark.parametrize(
    ("site", "side"),
    [
        ({"coding": [coding("7771000", display="Left")]}, "left"),
        ({"coding": [coding("24028007", display="Right")]}, "right"),
        ({"coding": [coding("51440002", display="Right and left")]}, "bilateral"),
        ({"text": "Left leg"}, "left"),
        ({"text": "both legs"}, "bilateral"),
    ],
)
def test_body_site_laterality(site, side):
    record = build(condition("23056005", bodySite=[site]))
    assert facts(record, "radiculopathy")[0].laterality == side


def test_icd10cm_laterality_and_sides_kept_per_fact():
    record = build(condition("M54.31", ICD10CM, rid="r"), condition("M54.42", ICD10CM, rid="l"),
                   condition("M21.372", ICD10CM, rid="fd"))
    sides = {f.source: f.laterality for f in record.facts}
    assert sides == {"Condition/r": "right", "Condition/l": "left", "Condition/fd": "left"}


def test_left_coding_plus_right_icd_code_is_bilateral():
    record = build(condition("M54.31", ICD10CM, bodySite=[{"coding": [coding("7771000")]}]))
    assert facts(record, "radiculopathy")[0].laterality == "bilateral"


# ----------------------------------------------------------------------------- worsening


def test_worsening_from_interpretation_and_local_qualifier():
    worse = {"coding": [{"system": V3, "code": "W", "display": "Worse"}]}
    record = build(
        observation("26544005", rid="interp", interpretation=[worse]),
        condition("26544005", rid="ext", extension=[{
            "url": "https://backpain-cds.org/fhir/StructureDefinition/course",
            "valueCodeableConcept": {"coding": [coding("worsening", LOCAL_FINDING_SYSTEM)]}}]),
        condition("26544005", rid="stage", stage=[{"summary": {
            "coding": [coding("progressive", LOCAL_FINDING_SYSTEM)]}}]),
        condition("26544005", rid="plain"),
    )
    worsening = {f.source: f.worsening for f in record.facts}
    assert worsening == {"Observation/interp": True, "Condition/ext": True,
                         "Condition/stage": True, "Condition/plain": False}


# ----------------------------------------------------------------------------- Observation negation


@pytest.mark.parametrize("state", ["entered-in-error", "cancelled"])
def test_erroneous_or_cancelled_observation_is_ignored(state):
    record = build(observation("267064002", status=state),
                   temperature(39.5, "Cel", status=state))
    assert record.facts == []


@pytest.mark.parametrize(
    "value",
    [
        {"valueBoolean": False},
        {"valueCodeableConcept": {"coding": [coding("2667000", display="Absent")]}},
        {"valueCodeableConcept": {"coding": [coding("260385009", display="Negative")]}},
        {"valueCodeableConcept": {"coding": [coding("260415000", display="Not detected")]}},
        {"valueString": "Absent"},
        # nobody asked: nothing recorded (asked-unknown does not deny the finding:
        # test_data_absent_reason.py)
        {"dataAbsentReason": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "code": "not-asked"}]}},
    ],
)
def test_negated_finding_never_becomes_a_fact(value):
    record = build(observation("267064002", **value),
                   observation("saddle-anaesthesia", LOCAL_FINDING_SYSTEM, rid="o2", **value))
    assert record.facts == []


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"valueBoolean": True},
        {"valueCodeableConcept": {"coding": [coding("52101004", display="Present")]}},
        {"valueString": "present"},
    ],
)
def test_present_finding_is_a_fact(value):
    record = build(observation("267064002", **value))
    (fact,) = facts(record, "urinary_retention")
    assert fact.status is FactStatus.CURRENT
    assert fact.when == datetime(2026, 6, 14, 9, tzinfo=UTC)


def test_finding_named_by_the_value_of_a_generic_observation():
    generic = {"coding": [{"system": "http://example.org/ehr", "code": "symptom"}]}
    record = build(observation("x", code=generic,
                               valueCodeableConcept={"coding": [coding("267064002")]}))
    assert [f.concept for f in record.facts] == ["urinary_retention"]


def test_finding_interpreted_as_normal_is_no_fact():
    normal = {"coding": [{"system": V3, "code": "N", "display": "Normal"}]}
    assert build(observation("hyperreflexia", LOCAL_FINDING_SYSTEM,
                             interpretation=[normal])).facts == []


def test_hla_b27_positive_and_negative_interpretation():
    # both kept: "tested negative" and "never tested" lead to different advice (NG65)
    neg = {"coding": [{"system": V3, "code": "NEG"}]}
    pos = {"coding": [{"system": V3, "code": "POS"}]}
    record = build(observation("hla-b27", LOCAL_FINDING_SYSTEM, rid="neg", interpretation=[neg]),
                   observation("hla-b27", LOCAL_FINDING_SYSTEM, rid="pos", interpretation=[pos]))
    assert {f.source: f.value for f in facts(record, "hla_b27")} == {
        "Observation/neg": 0.0, "Observation/pos": 1.0}


@pytest.mark.parametrize(("value", "expected"), [
    ({"valueBoolean": False}, 0.0),
    ({"valueString": "negative"}, 0.0),
    ({"valueCodeableConcept": {"coding": [coding("2667000")]}}, 0.0),  # absent qualifier
    ({"interpretation": [{"coding": [{"system": V3, "code": "ND"}]}]}, 0.0),
    ({"valueString": "HLA-B27 not detected"}, 0.0),  # a sentence, not a single word
    ({"valueBoolean": True}, 1.0),
    ({"valueCodeableConcept": {"coding": [coding("52101004")]}}, 1.0),  # present qualifier
    ({"valueString": "HLA-B*27 detected by PCR"}, 1.0),  # a value without a negative word
])
def test_hla_b27_result_value(value, expected):
    record = build(observation("hla-b27", LOCAL_FINDING_SYSTEM, **value))
    assert [f.value for f in facts(record, "hla_b27")] == [expected]


@pytest.mark.parametrize("extra", [
    {},  # no value, no interpretation: a pending test, not a result
    {"dataAbsentReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                "data-absent-reason", "code": "error"}]}},
    {"status": "entered-in-error", "valueBoolean": True},
])
def test_hla_b27_without_a_result_is_no_fact(extra):
    assert facts(build(observation("hla-b27", LOCAL_FINDING_SYSTEM, **extra)), "hla_b27") == []


def test_negative_hla_b27_is_shown_as_negative():
    record = build(observation("hla-b27", LOCAL_FINDING_SYSTEM, valueBoolean=False))
    assert "(negative)" in facts(record, "hla_b27")[0].describe(NOW)


# ----------------------------------------------------------------------------- Observation times


def test_observation_time_forms():
    base = {"effectiveDateTime": None}
    record = build(
        temperature(38.1, "Cel", "period", effectivePeriod={"start": "2026-06-10"}, **base),
        temperature(38.1, "Cel", "end", effectivePeriod={"end": "2026-06-11"}, **base),
        temperature(38.1, "Cel", "instant", effectiveInstant="2026-06-12T01:02:03Z", **base),
        temperature(38.1, "Cel", "issued", issued="2026-06-13T00:00:00Z", **base),
    )
    when = {f.source.split("/")[1]: f.when for f in record.facts}
    assert when == {"period": datetime(2026, 6, 10, tzinfo=UTC),
                    "end": datetime(2026, 6, 11, tzinfo=UTC),
                    "instant": datetime(2026, 6, 12, 1, 2, 3, tzinfo=UTC),
                    "issued": datetime(2026, 6, 13, tzinfo=UTC)}


# ----------------------------------------------------------------------------- units


def test_fahrenheit_is_converted_to_celsius():
    record = build(temperature(101.3, "[degF]"))
    (fact,) = facts(record, "body_temperature")
    assert fact.unit == "Cel" and fact.value == pytest.approx(38.5, abs=0.01)


def test_celsius_stays_celsius():
    (fact,) = build(temperature(38.2, "Cel")).facts
    assert (fact.value, fact.unit) == (38.2, "Cel")


@pytest.mark.parametrize("unit", ["bananas", None])
def test_unknown_or_missing_temperature_unit_drops_the_value(unit):
    record = build(temperature(38.2, unit))
    assert facts(record, "body_temperature") == []
    assert record.quality.unrecognised_units == 1
    (gap,) = record.quality.data_gaps  # said on every card: "Could not read: ..."
    assert gap.startswith("1 measurement(s)") and "cannot convert" in gap


def test_a_readable_value_leaves_no_gap():
    assert build(temperature(38.2, "Cel")).quality.data_gaps == []


@pytest.mark.parametrize(("value", "unit"), [
    (101.3, "degrees F"), (101.3, "Degree F"), (101.3, "degrees Fahrenheit"), (101.3, "\u2109"),
    (38.5, "degrees C"), (38.5, "degrees Celsius"), (38.5, "\u2103")])
def test_temperature_units_written_out_without_a_ucum_code(value, unit):
    """Feeds that send only the unit's text ("degrees F"): read, not dropped (audit finding 8)."""
    record = build(observation("8310-5", LOINC, valueQuantity={"value": value, "unit": unit}))
    (fact,) = facts(record, "body_temperature")
    assert fact.unit == "Cel" and fact.value == pytest.approx(38.5, abs=0.01)


@pytest.mark.parametrize(("value", "unit", "kg"), [(154.0, "[lb_av]", 69.85), (154.0, "lb", 69.85),
                                                     (70000, "g", 70.0), (70.0, "kg", 70.0)])
def test_weight_units(value, unit, kg):
    weight = observation("29463-7", LOINC,
                         valueQuantity={"value": value, "unit": unit, "system": UCUM, "code": unit})
    (fact,) = build(weight).facts
    assert fact.unit == "kg" and fact.value == pytest.approx(kg, abs=0.01)


def test_quantity_with_data_absent_reason_is_no_fact():
    record = build(observation("8310-5", LOINC, dataAbsentReason={"text": "refused"}))
    assert record.facts == [] and record.quality.unrecognised_units == 0


def test_mrc_grade_with_muscle_and_side_and_components():
    grade = observation("mrc-grade", LOCAL_FINDING_SYSTEM, rid="g1", valueInteger=3,
                        bodySite={"coding": [coding("7771000", display="Left")],
                                  "text": "Left ankle dorsiflexors"})
    panel = observation("x", rid="g2", code={"text": "Lower limb power"}, component=[
        {"code": {"coding": [coding("mrc-grade", LOCAL_FINDING_SYSTEM)]},
         "valueQuantity": {"value": 4}}])
    record = build(grade, panel)
    by_source = {f.source: f for f in facts(record, "muscle_strength_grade")}
    assert by_source["Observation/g1"].value == 3.0
    assert by_source["Observation/g1"].laterality == "left"
    assert by_source["Observation/g1"].detail == "Left ankle dorsiflexors"
    assert by_source["Observation/g2"].value == 4.0


# ----------------------------------------------------------------------------- medications


def test_active_systemic_steroid_has_start_and_duration_so_far():
    request = med_request("8640", "prednisone", dosageInstruction=[{
        "timing": {"repeat": {"boundsPeriod": {"start": "2026-01-01"}}},
        "route": {"text": "Oral"}}])
    (fact,) = build(request).facts
    assert fact.concept == "systemic_corticosteroid"
    assert fact.when == datetime(2026, 1, 1, tzinfo=UTC)
    assert (fact.value, fact.unit) == (float((NOW - datetime(2026, 1, 1, tzinfo=UTC)).days), "d")
    assert fact.status is FactStatus.CURRENT


def test_product_code_is_recognised_by_its_ingredient_name():
    record = build(med_request("312617", "Prednisone 5 MG Oral Tablet"))
    assert [f.concept for f in record.facts] == ["systemic_corticosteroid"]


@pytest.mark.parametrize("extra", [
    {"dosageInstruction": [{"route": {"text": "Topical"}}]},
    {"dosageInstruction": [{"route": {"coding": [coding("18679011", display="Inhalation")]}}]},
])
def test_non_systemic_steroid_route_is_skipped(extra):
    assert build(med_request("8640", "prednisone", **extra)).facts == []


@pytest.mark.parametrize(("display", "concept"), [
    ("Hydrocortisone 10 MG Oral Tablet", "systemic_corticosteroid"),
    ("Dexamethasone 4 MG/ML Injectable Solution", "systemic_corticosteroid"),
    ("Methotrexate 2.5 MG Oral Tablet", "immunosuppressant_drug"),
    ("tacrolimus 1 MG Oral Capsule", "immunosuppressant_drug"),
])
def test_products_recognised_by_ingredient_name(display, concept):
    assert [f.concept for f in build(med_request("0", display)).facts] == [concept]


def test_nsaid_prescription_is_a_conservative_care_trial():
    record = build(med_request("849574", "Naproxen sodium 220 MG Oral Tablet"))
    (fact,) = facts(record, "conservative_care_given")
    assert fact.resource_type == "MedicationRequest" and fact.unit == "d"


@pytest.mark.parametrize("display", [
    "Hydrocortisone 10 MG/ML Topical Cream",
    "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
    "Dexamethasone 1 MG/ML Ophthalmic Suspension",
    "Cyclosporine 0.5 MG/ML Ophthalmic Emulsion",
    "Simvastatin 10 MG",
])
def test_non_systemic_or_unrelated_products_give_nothing(display):
    assert build(med_request("0", display)).facts == []


def test_topical_steroid_product_is_skipped():
    cream = med_request("999999", "methylprednisolone aceponate 1 MG/G Topical Cream")
    assert build(cream).facts == []


@pytest.mark.parametrize("state", ["entered-in-error", "cancelled", "draft"])
def test_medication_statuses_that_do_not_count(state):
    assert build(med_request("8640", "prednisone", status=state)).facts == []


def test_completed_statement_duration_from_its_period():
    statement = {"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
                 "subject": SUBJECT,
                 "medicationCodeableConcept": {"coding": [coding("6902", RXNORM)]},
                 "effectivePeriod": {"start": "2025-01-01", "end": "2025-06-01"}}
    (fact,) = build(statement).facts
    assert fact.value == 151.0 and fact.unit == "d"
    assert fact.status is FactStatus.HISTORY


def test_contained_medication_reference():
    request = med_request("x", "x")
    del request["medicationCodeableConcept"]
    request["contained"] = [{"resourceType": "Medication", "id": "med",
                             "code": {"coding": [coding("3008", RXNORM, "cyclosporine")]}}]
    request["medicationReference"] = {"reference": "#med"}
    assert [f.concept for f in build(request).facts] == ["immunosuppressant_drug"]


# ----------------------------------------------------------------------------- orders


def test_draft_order_keeps_its_resource_id():
    draft = service_request("72148", rid="abc", state="draft")
    record = build(drafts=(draft,))
    (order,) = record.orders
    assert (order.kind, order.state, order.resource_id) == ("spine_mri", "draft",
                                                            "ServiceRequest/abc")


def test_another_patients_draft_is_dropped():
    draft = service_request("72148", rid="x", state="draft",
                            subject={"reference": "Patient/other"})
    record = build(drafts=(draft,))
    assert record.orders == [] and record.quality.other_patient_dropped == 1


def test_naive_now_is_refused():
    """A naive ``now`` is a caller's bug (every caller passes an aware time): it raises
    instead of being guessed (tests/unit/core/test_now_must_be_aware.py has the rest)."""
    with pytest.raises(ValueError, match="timezone"):
        build(now=datetime(2026, 6, 15, 12, 0))


def test_service_request_states():
    record = build(service_request("394451000119106", SNOMED, "a", "active"),
                   service_request("24970-6", LOINC, "c", "completed"),
                   service_request("72148", CPT, "r", "revoked"),
                   service_request("72148", CPT, "d", "draft"))  # a stored draft: not the desk's
    assert sorted((o.source, o.kind, o.state) for o in record.orders) == [
        ("ServiceRequest/a", "spine_mri", "active"),
        ("ServiceRequest/c", "spine_xray", "completed"),
    ]


def test_completed_physiotherapy_is_conservative_care():
    procedure = {"resourceType": "Procedure", "id": "pt", "status": "completed",
                 "subject": SUBJECT,
                 "code": {"coding": [coding("physiotherapy", LOCAL_FINDING_SYSTEM)]},
                 "performedPeriod": {"start": "2026-04-01", "end": "2026-05-01"}}
    record = build(procedure)
    assert [(o.kind, o.state) for o in record.orders] == [("physiotherapy", "completed")]
    (fact,) = facts(record, "conservative_care_given")
    assert fact.when == datetime(2026, 4, 1, tzinfo=UTC)


def test_imaging_study_by_procedure_code_or_modality_and_spine_site():
    by_code = {"resourceType": "ImagingStudy", "id": "i1", "status": "available",
               "subject": SUBJECT, "started": "2026-02-01",
               "procedureCode": [{"coding": [coding("24967-2", LOINC)]}]}
    by_site = {"resourceType": "ImagingStudy", "id": "i2", "status": "available",
               "subject": SUBJECT, "started": "2026-03-01",
               "series": [{"uid": "1.2.3", "modality": {"code": "MR"},
                           "bodySite": {"display": "Lumbar spine"}}]}
    chest = {"resourceType": "ImagingStudy", "id": "i3", "status": "available",
             "subject": SUBJECT, "started": "2026-03-01",
             "series": [{"uid": "1.2.4", "modality": {"code": "DX"},
                         "bodySite": {"display": "Thoracic structure"}}]}
    record = build(by_code, by_site, chest)
    assert sorted((o.source, o.kind, o.state) for o in record.orders) == [
        ("ImagingStudy/i1", "spine_mri", "completed"),
        ("ImagingStudy/i2", "spine_mri", "completed"),
    ]


def test_diagnostic_report_final_is_completed_cancelled_is_ignored():
    report = {"resourceType": "DiagnosticReport", "id": "d1", "status": "final",
              "subject": SUBJECT, "code": {"coding": [coding("36532-0", LOINC)]},
              "effectiveDateTime": "2026-05-01"}
    cancelled = dict(report, id="d2", status="cancelled")
    record = build(report, cancelled)
    assert [(o.source, o.kind, o.state, o.when) for o in record.orders] == [
        ("DiagnosticReport/d1", "spine_mri", "completed", datetime(2026, 5, 1, tzinfo=UTC))]


# ----------------------------------------------------------------------------- other patients


@pytest.mark.parametrize("ref", ["Patient/other", "urn:uuid:other",
                                 "https://ehr.example/fhir/Patient/other", "Group/g1"])
def test_other_patients_resources_are_dropped(ref):
    record = build(condition("192970008", subject={"reference": ref}))
    assert record.facts == []
    assert record.quality.other_patient_dropped == 1


@pytest.mark.parametrize("subject", [{"reference": f"urn:uuid:{PID}"},
                                     {"reference": f"https://ehr.example/fhir/Patient/{PID}"},
                                     {"reference": f"Patient/{PID}/_history/3"},
                                     {"identifier": {"value": "MRN1"}}])
def test_this_patients_resources_are_kept(subject):
    resource = condition("192970008", subject=subject)
    assert len(build(resource).facts) == 1


PATIENT_ENTRY = "urn:uuid:7f1b0c2e-1111-4222-8333-944455556666"


@pytest.mark.parametrize("ref", [PATIENT_ENTRY, f" {PATIENT_ENTRY} "])
def test_the_patients_bundle_entry_url_names_the_patient(ref):
    """A transaction or collection Bundle refers to its Patient entry by its fullUrl, which
    need not end in the id (FHIR R4 Bundle: resolving references)."""
    resource = condition("192970008", subject={"reference": ref})
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(resource,),
                          patient_references=(PATIENT_ENTRY,))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert len(record.facts) == 1 and record.quality.other_patient_dropped == 0
    other = condition("192970008", subject={"reference": "urn:uuid:someone-else"})
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(other,),
                          patient_references=(PATIENT_ENTRY,))
    assert build_record(request, NOW, DEFAULT_SETTINGS).quality.other_patient_dropped == 1


def test_entry_full_urls_finds_the_patients_entry_in_any_bundle_it_reads():
    from cds_rules import entry_full_urls
    patient = {"resourceType": "Patient", "id": PID}
    inner = {"resourceType": "Bundle", "entry": [{"fullUrl": PATIENT_ENTRY, "resource": patient}]}
    outer = {"resourceType": "Bundle", "entry": [
        "junk", {"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Patient", "id": "other"}},
        {"fullUrl": 7, "resource": patient}, {"resource": inner}]}
    assert entry_full_urls(outer, "Patient", PID) == [PATIENT_ENTRY]
    assert entry_full_urls([None, outer], "Patient", PID) == [PATIENT_ENTRY]
    assert entry_full_urls(patient, "Patient", PID) == []  # a bare resource has no entry


def test_condition_without_subject_is_invalid_fhir_and_counted():
    resource = condition("192970008")
    del resource["subject"]  # Condition.subject is 1..1 in R4
    record = build(resource)
    assert record.facts == [] and record.quality.skipped_invalid == 1


# ----------------------------------------------------------------------------- invalid input


def test_invalid_relevant_resource_is_skipped_and_counted():
    bad = condition("192970008", onsetDateTime="not a date", unknownElement=1)
    record = build(bad, None, 42, "text", {"resourceType": 7}, condition("279039007", rid="ok"))
    assert [f.concept for f in record.facts] == ["low_back_pain"]
    assert record.quality.skipped_invalid == 5
    assert record.quality.resources_seen == 6


def test_junk_in_elements_the_record_never_reads_does_not_cost_the_fact():
    # only the elements the record builder reads are validated (cds_rules.validation)
    noisy = condition("192970008", note="not a list of Annotations", meta={"tag": "junk"})
    record = build(noisy)
    assert [f.concept for f in record.facts] == ["cauda_equina_syndrome"]
    assert record.quality.skipped_invalid == 0


def test_irrelevant_resources_are_not_validated():
    # an invalid Observation with a code no rule uses is never validated, so never "invalid":
    # selection by code comes before validation (DESIGN.md, performance design)
    junk = observation("8302-2", LOINC, valueQuantity={"value": "tall"})
    record = build(junk)
    assert record.quality.skipped_invalid == 0
    assert record.quality.unrecognised_codes == 1


def test_data_gaps_are_copied():
    record = build(gaps=("Observation (server down)",))
    assert record.quality.data_gaps == ["Observation (server down)"]


@pytest.mark.parametrize("request_value", [None, "x", 5, {"resources": [1]},
                                          HookRequest(hook="patient-view", patient_id=None,
                                                      resources=None)])  # type: ignore[arg-type]
def test_build_record_never_raises_on_wrong_types(request_value):
    record = build_record(request_value, NOW, DEFAULT_SETTINGS)  # type: ignore[arg-type]
    assert record.facts == [] and record.orders == []


def test_resource_order_does_not_change_the_record():
    resources = [patient(), condition("192970008", rid="a"), temperature(101.3, "[degF]"),
                 condition("M54.31", ICD10CM, rid="b"), service_request("72148")]
    forward = build(*resources)
    backward = build(*reversed(resources))
    assert set(forward.facts) == set(backward.facts)
    assert set(forward.orders) == set(backward.orders)
    assert forward.birth_date == backward.birth_date


# ----------------------------------------------------------------------------- property tests

SEEDS = [
    patient(),
    condition("192970008", clinicalStatus=status("clinical", "active"),
              bodySite=[{"coding": [coding("7771000")]}], onsetAge={"value": 5, "code": "a"}),
    observation("267064002", valueCodeableConcept={"coding": [coding("52101004")]},
                component=[{"code": {"coding": [coding("mrc-grade", LOCAL_FINDING_SYSTEM)]},
                            "valueInteger": 3}]),
    temperature(101.3, "[degF]", effectivePeriod={"start": "2026-06"}),
    med_request("8640", "prednisone", dosageInstruction=[{"timing": {"repeat": {
        "boundsPeriod": {"start": "2026-01-01"}}}, "route": {"text": "Oral"}}]),
    service_request("72148"),
    {"resourceType": "ImagingStudy", "id": "i", "status": "available", "subject": SUBJECT,
     "series": [{"uid": "1", "modality": {"code": "MR"}, "bodySite": {"display": "Lumbar"}}]},
]

TYPE_CONFUSION = st.sampled_from([True, 7, 2.5, "text", [], {}, [1], {"coding": 5},
                                  [{"code": 1}], {"value": "x"}])
JSON_LEAF = st.one_of(TYPE_CONFUSION, st.none(), st.booleans(), st.integers(),
                      st.floats(allow_nan=True),
                      st.text(max_size=12), st.sampled_from(["", "2026-13-45", "Patient/x",
                                                             "urn:uuid:p1", "entered-in-error"]))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A seed resource with random keys dropped, replaced by junk, or nested values cut."""
    resource = copy.deepcopy(draw(st.sampled_from(SEEDS)))

    def mutate(node: Any, depth: int) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                action = draw(st.sampled_from(["keep", "drop", "junk", "confuse", "recurse"]))
                if action == "drop" and key != "resourceType":
                    continue
                if action == "junk":
                    out[key] = draw(JSON_VALUE)
                elif action == "confuse":  # the wrong JSON type where a shape is expected
                    out[key] = draw(TYPE_CONFUSION)
                else:
                    out[key] = mutate(value, depth + 1)
            return out
        if isinstance(node, list):
            cut = draw(st.integers(0, len(node)))
            return [mutate(v, depth + 1) for v in node[:cut]]
        return node

    return mutate(resource, 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=4), st.lists(mutated(), max_size=2))
def test_mutated_or_truncated_resources_never_raise(resources, drafts):
    record = build(*resources, drafts=tuple(drafts))
    assert record.quality.resources_seen == len(resources) + len(drafts)
    for fact in record.facts:
        assert fact.when is None or fact.when.tzinfo is not None


def _strict_guard(builder: Any, handler: Any, resource: dict[str, Any],
                  set_aside_as: Any = None) -> None:
    if handler(builder, resource):
        builder.quality.resources_used += 1


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=4), st.lists(mutated(), max_size=2))
def test_handlers_do_not_lean_on_the_last_resort_guard(resources, drafts):
    # build_record's per-resource guard turns an exception into "skipped invalid"; with it
    # removed, no mutated resource may make a handler raise (a raise would be a bug hidden
    # as bad data)
    request = HookRequest(hook="patient-view", patient_id=PID, resources=tuple(resources),
                          draft_orders=tuple(drafts))
    builder = record_module.Builder(record=PatientRecord(patient_id=PID, now=NOW),
                                     patient_id=PID)
    with mock.patch.object(record_module, "_guarded", _strict_guard):
        record_module._build(builder, request)  # build_record's outer guard left out too


@settings(max_examples=100, deadline=None)
@given(st.lists(JSON_VALUE, max_size=5))
def test_random_json_never_raises(values):
    build(*values, drafts=tuple(values))


# ----------------------------------------------------------------------------- Synthea


def _synthea_files():
    return sorted(SYNTHEA_DIR.glob("*.json")) if SYNTHEA_DIR.is_dir() else []


@functools.cache
def _synthea(path: Path) -> tuple[str, tuple[dict[str, Any], ...]]:
    """(patient id, resources) of one Synthea bundle, parsed once per test session."""
    resources = tuple(resources_from(orjson.loads(path.read_bytes())))
    pid = next(r["id"] for r in resources if r.get("resourceType") == "Patient")
    return pid, resources


def test_synthea_bundles_build_without_error_and_honour_refutation():
    files = _synthea_files()
    require(len(files) >= 41, f"Synthea sample data in {SYNTHEA_DIR}")
    for path in files:
        pid, resources = _synthea(path)
        # a refuted cauda equina diagnosis planted in every real bundle must stay silent
        refuted = {"resourceType": "Condition", "id": "planted-refuted",
                   "subject": {"reference": f"urn:uuid:{pid}"},
                   "verificationStatus": status("ver-status", "refuted"),
                   "code": {"coding": [coding("192970008")]}}
        refuted_ids = {f"Condition/{r['id']}" for r in resources
                       if r.get("resourceType") == "Condition"
                       and "refuted" in json.dumps(r.get("verificationStatus"))}
        refuted_ids.add("Condition/planted-refuted")
        request = HookRequest(hook="patient-view", patient_id=pid,
                              resources=(*resources, refuted))
        record = build_record(request, NOW, DEFAULT_SETTINGS)
        assert record.quality.resources_used > 0, path.name
        assert record.birth_date is not None, path.name
        assert record.quality.other_patient_dropped == 0, path.name
        assert not any(f.source in refuted_ids for f in record.facts), path.name
        assert record.having("cauda_equina_syndrome") == [], path.name


def test_synthea_resources_of_another_patient_are_dropped():
    files = _synthea_files()
    require(len(files) >= 2, f"Synthea sample data in {SYNTHEA_DIR}")
    (pid, first), (_, second) = _synthea(files[0]), _synthea(files[1])
    alone = build_record(HookRequest("patient-view", pid, tuple(first)), NOW, DEFAULT_SETTINGS)
    mixed = build_record(HookRequest("patient-view", pid, (*first, *second)), NOW,
                         DEFAULT_SETTINGS)
    assert set(mixed.facts) == set(alone.facts)
    assert mixed.quality.other_patient_dropped > 0


def test_synthea_cancers_and_temperatures_are_recognised():
    files = _synthea_files()
    require(len(files) >= 41, f"Synthea sample data in {SYNTHEA_DIR}")
    cancer: dict[str, int] = {"current": 0, "history": 0}
    temperatures = 0
    # Every temperature, however old: this is about recognising codes and units (by
    # default only readings within the fever window are read, see test_record_time_filter).
    every_reading = RuleSettings.model_construct(fever_window_days=36_500,  # past the range
                                                 weight_loss_window_days=36_500)
    for path in files:
        pid, resources = _synthea(path)
        record = build_record(HookRequest("patient-view", pid, resources), NOW, every_reading)
        for fact in record.ever("cancer"):
            cancer[fact.status.value] += 1
        temperatures += len(record.series("body_temperature"))  # LOINC 8331-1 oral, in Cel
    # NOTICE.md: prostate, colon and lung cancers; resolved ones are history, not absent
    assert cancer["current"] > 0 and cancer["history"] > 0
    assert temperatures > 0


def test_synthea_weights_are_a_series_in_kg():
    files = _synthea_files()
    require(bool(files), f"Synthea sample data in {SYNTHEA_DIR}")
    pid, resources = _synthea(files[0])
    # not only the window's (past the plausible range: unchecked)
    every_reading = RuleSettings.model_construct(weight_loss_window_days=36_500)
    record = build_record(HookRequest("patient-view", pid, resources), NOW, every_reading)
    weights = record.series("body_weight")
    assert len(weights) >= 2 and all(w.unit == "kg" and 0 < (w.value or 0) < 300 for w in weights)
    assert weights == sorted(weights, key=lambda f: f.when or NOW)


# ----------------------------------------------------------------------------- bundles


def _outcome(severity: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": "processing"}]}


def test_resources_from_flattens_every_bundle_type_and_ignores_junk():
    cond = condition("279039007")
    assert resources_from(None) == []
    assert resources_from(cond) == [cond]
    for kind in ("searchset", "transaction", "collection", "batch-response"):
        bundle = {"resourceType": "Bundle", "type": kind,
                  "entry": [{"resource": cond}, {"fullUrl": "x"}, "junk", {"resource": 5}]}
        assert resources_from(bundle) == [cond], kind
    nested = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Bundle",
                                                                "entry": [{"resource": cond}]}}]}
    assert resources_from(nested) == [cond]
    assert resources_from([cond, None, "x", {"no": "type"}]) == [cond]
    assert resources_from({"resourceType": "Bundle", "entry": "oops"}) == []


def test_operation_outcome_detection():
    data = {"resource": condition("279039007")}
    bundle = {"resourceType": "Bundle", "type": "searchset"}
    assert is_operation_outcome(_outcome("error"))
    assert is_operation_outcome(dict(bundle, entry=[{"resource": _outcome("fatal"),
                                                      "search": {"mode": "outcome"}}]))
    assert is_operation_outcome(dict(bundle, entry=[{"resource": _outcome("information")}]))
    assert is_operation_outcome(dict(bundle, type="batch-response", entry=[
        {"response": {"status": "500", "outcome": _outcome("error")}}]))
    # data with a merely informational outcome is data
    assert not is_operation_outcome(dict(bundle, entry=[data, {"resource": _outcome("warning"),
                                                              "search": {"mode": "outcome"}}]))
    assert not is_operation_outcome(dict(bundle, entry=[data]))
    assert not is_operation_outcome(condition("279039007"))
    assert not is_operation_outcome(None)


def _reference_collect(value: Any, out: list[Any], depth: int) -> None:
    """resources_from as first written (one call per level): the oracle of its fast path."""
    if depth > 4 or not isinstance(value, dict | list | tuple):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _reference_collect(item, out, depth + 1)
        return
    rtype = value.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return
    if rtype != "Bundle":
        out.append(value)
        return
    if isinstance(value.get("entry"), list):
        for entry in value["entry"]:
            if isinstance(entry, dict):
                _reference_collect(entry.get("resource"), out, depth + 1)


def _reference_is_outcome(value: Any) -> bool:
    """is_operation_outcome as first written: the oracle of its one-pass loop."""
    if not isinstance(value, dict) or value.get("resourceType") not in ("Bundle",
                                                                        "OperationOutcome"):
        return False
    if value["resourceType"] == "OperationOutcome":
        return True
    if not isinstance(value.get("entry"), list):
        return False
    outcomes, data = [], 0
    for entry in value["entry"]:
        if not isinstance(entry, dict):
            continue
        resource, response = entry.get("resource"), entry.get("response")
        outcome = response.get("outcome") if isinstance(response, dict) else None
        for candidate in (resource, outcome):
            if isinstance(candidate, dict) and candidate.get("resourceType") == "OperationOutcome":
                outcomes.append(candidate)
            elif candidate is resource and isinstance(candidate, dict):
                data += 1
    return bool(outcomes) and (data == 0 or any(is_error_outcome(o) for o in outcomes))


_KINDS = st.sampled_from(["Condition", "OperationOutcome", "Bundle", "", None, 7])
_RESOURCES = st.recursive(
    st.none() | st.just("junk") | st.builds(
        lambda kind, severity: {"resourceType": kind, "issue": [{"severity": severity}]}
        if kind is not None else {"issue": []},
        _KINDS, st.sampled_from(["error", "fatal", "warning", "information"])),
    lambda inner: st.builds(
        lambda entries: {"resourceType": "Bundle", "entry": entries},
        st.lists(st.none() | st.builds(
            lambda resource, outcome: {"resource": resource,
                                       **({"response": {"outcome": outcome}} if outcome else {})},
            inner, st.none() | inner), max_size=4))
    | st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple),
    max_leaves=14)


@given(_RESOURCES)
@settings(max_examples=400, deadline=None)
def test_bundle_reading_answers_as_first_written(value: Any) -> None:
    expected: list[Any] = []
    _reference_collect(value, expected, 0)
    assert resources_from(value) == expected
    assert all(a is b for a, b in zip(resources_from(value), expected, strict=True))
    assert is_operation_outcome(value) == _reference_is_outcome(value)


def test_bundles_nested_past_four_levels_are_not_followed() -> None:
    cond = condition("279039007")
    nested: Any = cond
    for _ in range(3):
        nested = {"resourceType": "Bundle", "entry": [{"resource": nested}]}
    assert resources_from(nested) == [cond]  # the resource sits at depth 3
    deeper = {"resourceType": "Bundle", "entry": [{"resource": nested}]}
    assert resources_from([deeper]) == []  # depth 5: past the limit


@pytest.mark.parametrize(("reference", "expected"), [
    ("Patient/1", ("Patient", "1")),
    ("https://ehr.example/fhir/Patient/1/_history/2", ("Patient", "1")),
    ("urn:uuid:abc", (None, "abc")),
    ("#contained", (None, None)),
    ("", (None, None)),
    (None, (None, None)),
])
def test_parse_reference(reference, expected):
    assert parse_reference(reference) == expected
