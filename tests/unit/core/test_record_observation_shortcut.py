"""The short way through an Observation that names a test and holds nothing else to read
(:func:`cds_rules.record.observations._a_test_with_nothing_else_to_read`, issue #15).

The shortcut must never change a record: with it and without it (the full walk through
:func:`cds_rules.record.uncoded_entries.read_uncoded`), the same facts and the same counts,
on every scenario, on every Observation of the Synthea patients, on mutated Observations,
and on the cases where the text of a test's value names a red flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fhir_samples
from benchmarks.inputs import synthea_resources
from cds_rules import valuesets as vs
from cds_rules.engine import HookRequest
from cds_rules.model import PatientRecord
from cds_rules.record import build_record, entry_words, observations, residuals, temperatures
from cds_rules.settings import DEFAULT_SETTINGS
from tests.conftest import SYNTHEA_DIR
from tests.unit.core.test_record_fast_path import EVERY_READING, NOW, mutated, point_mutated

LOINC = "http://loinc.org"
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}


@contextmanager
def full_walk() -> Iterator[None]:
    """Every Observation through the full walk: the shortcut answers 'not mine'."""
    shortcut = observations._a_test_with_nothing_else_to_read
    observations._a_test_with_nothing_else_to_read = lambda resource: False
    try:
        yield
    finally:
        observations._a_test_with_nothing_else_to_read = shortcut


def records(resources: list[dict[str, Any]], patient_id: str = "p1",
            rules: Any = EVERY_READING) -> tuple[PatientRecord, PatientRecord]:
    """(with the shortcut, with the full walk) for the same request."""
    request = HookRequest(hook="patient-view", patient_id=patient_id, resources=tuple(resources))
    short = build_record(request, NOW, rules)
    with full_walk():
        full = build_record(request, NOW, rules)
    return short, full


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", "status": "final",
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-01-10",
            "code": {"coding": [{"system": LOINC, "code": "2339-0", "display": "Glucose"}]},
            **elements}


def test_the_shortcut_is_taken_for_a_plain_test():
    taken = []
    shortcut = observations._a_test_with_nothing_else_to_read

    def spy(resource: dict[str, Any]) -> bool:
        taken.append(shortcut(resource))
        return taken[-1]

    observations._a_test_with_nothing_else_to_read = spy
    try:
        short = records([PATIENT, observation(valueQuantity={"value": 5.4, "unit": "mmol/L"})])[0]
    finally:
        observations._a_test_with_nothing_else_to_read = shortcut
    assert taken == [True]
    assert short.quality.unrecognised_codes == 1
    assert short.facts == []


@pytest.mark.parametrize(("elements", "red_flag_in_text"), [
    ({"valueString": "cauda equina syndrome"}, True),
    ({"valueCodeableConcept": {"text": "saddle anaesthesia"}}, True),
    ({"code": {"coding": [{"system": "http://snomed.info/sct", "code": "0"}],
               "text": "new urinary retention"}}, True),
    ({"code": {"text": "cauda equina syndrome"}}, True),
    # a component's words are read (UNCODED-* 1.3.0/1.4.0), unless it is stated absent:
    # the shortcut's guard ("component" not in resource) must leave them to the walk
    ({"component": [{"code": {"text": "x"}, "valueString": "urinary retention"}]}, True),
    ({"component": [{"code": {"text": "Saddle anaesthesia"}, "valueBoolean": True}]}, True),
    ({"component": [{"code": {"text": "Saddle anaesthesia"}, "valueBoolean": False}]}, False),
    ({"valueCodeableConcept": None}, False),
])
def test_what_the_full_walk_reads_is_left_to_it(elements, red_flag_in_text):
    short, full = records([PATIENT, observation(**elements)])
    assert short == full
    uncoded = [f for f in short.facts if f.concept.startswith("uncoded:")]
    assert bool(uncoded) is red_flag_in_text


def test_a_panel_whose_component_is_known_is_read():
    panel = observation(code={"coding": [{"system": LOINC, "code": "85353-1"}]}, component=[
        {"code": {"coding": [{"system": LOINC, "code": "8310-5"}]},
         "valueQuantity": {"value": 38.6, "unit": "Cel", "system": "http://unitsofmeasure.org",
                           "code": "Cel"}}])
    short, full = records([PATIENT, panel])
    assert short == full
    assert [(f.concept, f.value) for f in short.facts] == [("body_temperature", 38.6)]


def test_scenarios_are_unchanged():
    for scenario in fhir_samples.load_all():
        request = scenario.hook_request()
        short = build_record(request, scenario.now, DEFAULT_SETTINGS)
        with full_walk():
            full = build_record(request, scenario.now, DEFAULT_SETTINGS)
        assert short == full, scenario.id


@pytest.mark.skipif(not SYNTHEA_DIR.is_dir(), reason="the shared Synthea data is absent")
def test_every_synthea_patient_is_unchanged():
    for path in sorted(SYNTHEA_DIR.glob("*.json")):
        patient_id, resources = synthea_resources(path)
        short, full = records(resources, patient_id)
        assert short == full, path.name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(point_mutated(), mutated()), min_size=1, max_size=4))
def test_mutated_resources_give_the_same_record(resources):
    for resource in resources:
        resource["subject"] = {"reference": "Patient/p1"}
    short, full = records([PATIENT, *resources])
    assert short == full


# Red flags where the full walk reads words (and where it must not): the scenarios and
# Synthea rarely put them there, so the property below draws them on purpose.
WORDS = ["cauda equina syndrome", "saddle anaesthesia", "new urinary retention",
         "no urinary retention", "Cancer Ag 125", "Glucose", "",
         # a post-void residual, by its name and in words (twenty-sixth session)
         "Post void residual", "Bladder scan: PVR 650 ml",
         # a temperature, by its name and in figures (twenty-seventh session)
         "Tympanic temperature", "Temp 38.9", "Room temperature"]
# a residual's quantity, another unit's, none (millilitres), and malformed ones
QUANTITIES = [{"value": 650, "unit": "mL"}, {"value": 0.9, "unit": "L", "code": "L"},
              {"value": 5.1, "unit": "mmol/L"}, {"value": 650}, {"unit": "mL"},
              {"value": "650", "unit": "mL"}, {"value": 10 ** 400, "unit": "mL"},
              # a temperature's (a fever's, in each unit), and malformed ones
              {"value": 39.2, "unit": "Cel"}, {"value": 102.2, "code": "[degF]"},
              {"value": "39", "unit": "Cel"}, {"value": 39.2, "unit": 7},
              {"value": 102.5, "unit": "degrees F"}, {"value": 312.3, "code": "K"},
              {"value": 39.2, "code": "mmol/L", "unit": "Cel"}]
SYSTEMS = sorted({LOINC, " http://loinc.org", "http://loinc.org/", "http://snomed.info/sct",
                  *(alias for alias, system in vs._SYSTEM_ALIASES.items()
                    if system == vs.LOINC)})
CODES = ["2339-0", "8310-5", "0", "", 5]
coding = st.fixed_dictionaries({"system": st.sampled_from(SYSTEMS),
                                "code": st.sampled_from(CODES)},
                               optional={"display": st.sampled_from(WORDS)})
concept = st.one_of(
    st.fixed_dictionaries({}, optional={"coding": st.lists(coding, max_size=2),
                                        "text": st.sampled_from(WORDS)}),
    st.sampled_from([None, "junk", {"coding": "x"}, {"coding": [1, None]}]))
words_observation = st.fixed_dictionaries(
    {"resourceType": st.just("Observation"), "id": st.just("o1"),
     "status": st.sampled_from(["final", "entered-in-error", "preliminary"]),
     "subject": st.just({"reference": "Patient/p1"}),
     "effectiveDateTime": st.sampled_from(["2026-01-10", "2019-01-01"]),
     "code": concept},
    optional={"valueString": st.one_of(st.sampled_from(WORDS), st.just(7)),
              "valueCodeableConcept": concept,
              "valueQuantity": st.sampled_from(QUANTITIES),
              "component": st.lists(st.fixed_dictionaries(
                  {"code": concept},
                  optional={"valueString": st.sampled_from(WORDS),
                            "valueQuantity": st.sampled_from(QUANTITIES),
                            "valueBoolean": st.booleans()}), max_size=2)})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(words_observation, min_size=1, max_size=3))
def test_red_flag_words_anywhere_give_the_same_record(resources):
    short, full = records([PATIENT, *resources])
    assert short == full


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(words_observation, point_mutated(), mutated()))
def test_an_entry_said_to_have_no_words_gives_the_walk_none(resource):
    """``has_no_words`` and the walk's reading (``entry_texts``, ``note_texts``, and a
    post-void residual held as a quantity) sit side by side: an entry the first calls
    wordless gives the second nothing to read."""
    if entry_words.has_no_words(resource):
        assert entry_words.entry_texts(resource) == []
        assert entry_words.note_texts(resource) == []
        assert residuals.residual_of(resource, []) is None
        assert temperatures.highest_temperature(resource, []) is None


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_a_loinc_test_holding_a_residual_gives_the_same_record(quantity):
    """A bladder scan sent under a LOINC coding (its display names the residual) holds no
    words the walk reads but a volume the residual reader does (twenty-sixth session)."""
    scan = observation(code={"coding": [{"system": LOINC, "display": "Post void residual"}]},
                       valueQuantity=quantity)
    short, full = records([PATIENT, scan])
    assert short == full


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_a_loinc_test_holding_a_temperature_gives_the_same_record(quantity):
    """A tympanic temperature sent under a LOINC coding without its code (its display names
    the temperature) holds no words the walk reads but a temperature the weak-fever reader
    does (twenty-seventh session): the shortcut must leave it to the walk."""
    tympanic = observation(code={"coding": [{"system": LOINC,
                                             "display": "Tympanic membrane temperature"}]},
                           valueQuantity=quantity)
    short, full = records([PATIENT, tympanic])
    assert short == full
    fever = quantity in ({"value": 39.2, "unit": "Cel"}, {"value": 102.2, "code": "[degF]"},
                         {"value": 102.5, "unit": "degrees F"}, {"value": 312.3, "code": "K"})
    assert any(f.detail == "fever" for f in short.facts) is fever


@pytest.mark.parametrize("value", [39, 102, 7, -5])
def test_a_loinc_test_holding_a_whole_number_temperature_gives_the_same_record(value):
    """A whole number under a LOINC coding whose display names a temperature: read by the
    walk (a fever at 39 and at 102, read as Fahrenheit), so never skipped by the shortcut."""
    held = observation(code={"coding": [{"system": LOINC, "display": "Body temperature"}]},
                       valueInteger=value)
    short, full = records([PATIENT, held])
    assert short == full
    assert any(f.detail == "fever" for f in short.facts) is (value in (39, 102))
