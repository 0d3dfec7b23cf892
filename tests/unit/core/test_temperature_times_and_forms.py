"""Temperatures the twenty-seventh session's note listed as still not read (CONS-01 2.21.0,
IMG-01 1.17.0, IMG-04 1.16.0): a figure after a clock time or in a list of timed readings,
a TPR string, a form's ticked box or "yes", a figure beside another symptom's end, a local
code's own letters, a quantity in degrees of no named scale.

Before, each gave the conservative card's "No red flag recorded" and "Reassure" over a
fever of 38.9 °C: "Temp 36.9 at 0800, 38.9 at 1400" read only its first figure, "Temp at
14:00 was 38.9" and "TPR 38.9/120/24" none, "Temp >38 [x]" was read as advice, "Temp 38.9
pain resolved" as a fever over, a "TEMP" row with no text as no temperature, and 39.2
"degrees" (even under LOINC 8310-5) as a unit the service cannot convert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json, units
from cds_rules.record.negation import closes_negated
from cds_rules.temperature_words import Temperature, temperatures_in_words
from tests.unit.core.local_entries import (
    LOCAL,
    LOINC,
    SUBJECT,
    local_problem,
    with_back_pain,
)

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

TIMED = [  # a clock time before a figure, or a list of timed readings: the highest
    ("Temp 36.9 at 0800, 38.9 at 1400", 38.9), ("Temp 36.9 on arrival, 38.9 at 2am", 38.9),
    ("Temp at 14:00 was 38.9", 38.9), ("Temp at 2am 38.9", 38.9), ("Temp at 2pm: 38.9", 38.9),
    ("Temp 36.9 at 08:00, 38.9 at 14:00", 38.9), ("Temps: 08:00 36.9, 14:00 38.9", 38.9),
    ("Temp 36.9 this morning, 38.9 this evening", 38.9), ("Temp 38.9 (1400)", 38.9),
    ("Temp 36.9 at 14.00, 38.2 at 18.30", 38.2), ("Temp 36.9 at 9.30am, 38.2 at 11pm", 38.2),
    ("Temp 36.9 overnight, 38.6 today", 38.6), ("Temp at 1400 of 38.9", 38.9),
    # the figure after a time, never the time (the first version's review: "Temp 1015
    # 36.9" read 101.5 °F); below the threshold, read as what it is
    ("Temp at 1045: 36.8", 36.8), ("Temp 1015 36.9", 36.9), ("Temp taken 1020, 36.7", 36.7),
    ("Temp 1030 36.6C", 36.6),
    # a TPR: temperature / pulse / respiratory rate
    ("TPR 38.9/120/24", 38.9), ("TPR: 38.9, 120, 24", 38.9), ("TPR 101/110/22", 38.33),
    ("TPR 38.9", 38.9),
]


@pytest.mark.parametrize(("text", "celsius"), TIMED)
def test_a_figure_after_a_time_or_in_a_timed_list_is_read(text: str, celsius: float) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(celsius),)


@pytest.mark.parametrize(("text", "celsius"), [
    # a clock's digits are no figure of a list: "1010" is no 101.0 °F
    ("Temp 36.9 at 1010, 37.0 at 1400", 37.0), ("Temp 37.1 at 0800, BP 120/80", 37.1),
    ("Temp 36.9 at 930, 37.0 at 1000", 37.0), ("Temp 37.1 at 0800, 120 at 0900", 37.1),
    ("Temp 37.1 at 0800, HR 40 at 0900", 37.1), ("Temp 36.9 at 2am, 37.0 at 11pm", 37.0),
    # a time never eats a temperature with no figure after it
    ("Temp 103", 39.44), ("Temp 100.4", 38.0), ("Temp 103 in ED", 39.44),
    ("Temp 103 was high", 39.44),
])
def test_a_clocks_digits_are_no_temperature(text: str, celsius: float) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(celsius),)


# The independent review of the first version: a Fahrenheit whole number before anything
# starting with a digit was taken for a clock ("Temp 102, 3 days" read nothing), a time before
# "/" and a digit lost the reading ("Temp 38.9 at 1400/1600")
REVIEW_READ = [
    ("Temp 102, 3 days of back pain", 38.89), ("Tmax 102 24h", 38.89), ("Temp 102 1400", 38.89),
    ("Temp 101 2am", 38.33), ("Tmax 102 0300", 38.89), ("Temp 102 14:00", 38.89),
    ("Obs: temp 103, 118, 24, 92%", 39.44), ("Temp 101, 1g paracetamol given", 38.33),
    ("Temp 104 - 2 hrs post paracetamol", 40.0), ("Temp 103 measured 3 times", 39.44),
    ("Temp 38.9 at 1400/1600", 38.9), ("Temp 38.9 at 14:00/16:00", 38.9),
    ("Temp 38.9 at 2am/3am", 38.9), ("Temp 39.2 @ 0200/0400/0600", 39.2),
    ("Temp 38.9 overnight / 2 doses paracetamol", 38.9), ("Temp 38.9 today / 4 hrly obs", 38.9),
    ("Temp 36.9 at 0800, 38.9 at 1400/1600", 38.9),
    # ... and what it found still missed: a verb or a qualifier after the time, "=", a whole
    # number in a timed list
    ("Temp at 1430 rose to 39.1", 39.1), ("Temp at 1430 peaked at 39.1", 39.1),
    ("Temp at 1430 (tympanic) 39.1", 39.1), ("Temp @ 14:30 = 39.1", 39.1),
    ("Temp 36.5 at 0600, 39 at 1400", 39.0), ("Temp 97 at 0600, 102 at 1400", 38.89),
    ("Temp 36.5 (0600), 39 (1400)", 39.0),
    # a form's question answered by the figure, after blanks too
    ("Temp?  38.9", 38.9), ("Temperature?\t39.2C", 39.2), ("Temp? 38.9", 38.9),
]


@pytest.mark.parametrize(("text", "celsius"), REVIEW_READ)
def test_the_reviews_lost_readings_are_read(text: str, celsius: float) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(celsius),)


REVIEW_NOT_READ = [
    # a box ticked beside another label, a normal band ticked, advice, the past
    "Temp > 38: [x] No [ ] Yes", "Temp >38.0C: [X] Not present", "Temp > 38 [x] not assessed",
    "Temp 36.1-38.0 [x]", "NEWS2 temp 36.1-38.0: [x] 0 points", "Normal temp 36-38? Yes",
    "Patient aware of red flags, temp >38 [x]", "Red flags discussed: temp >38 [x]",
    "Warned re: temp > 38 [x]", "Temp >38 [x] 3 weeks ago", "Temp >38 [x] last week",
    # a fever's word in the list that ended, or said over later in its part
    "Temp 38.9 fever and pain resolved", "Temp 38.9 pyrexia and headache settled",
    "Temp 38.9 temp and pain resolved", "Temp 38.9 febrile and pain since resolved",
    "Temp 38.9 pain resolved now apyrexial", "Temp 38.9 pain resolved, temp settled",
    # an age, a reading of last week
    "Temp at 1400, 39 yo", "Temp at 0800 38 y/o", "Temp 36.8 today, 39.2 last week",
    # the second review: a past reading in a timed list, where it was taken before it
    "Temp 36.8 today, 39.2 at home last week", "Temp 36.8 today, 39.2 on admission 3 weeks ago",
]


@pytest.mark.parametrize("text", [
    # the second review: an earlier, another person's, a denied or a recurred "apyrexial"
    # does not end a measured fever (the first mend hid each)
    "Temp 38.9, previously apyrexial", "Temp 39.4 - not yet apyrexial despite paracetamol",
    "Temp 38.9, not apyrexial", "Spiked temp 38.9 at 2am having been apyrexial all day",
    "Temp 38.9 (afebrile on arrival)", "Temp 38.9 (was apyrexial at 0800)",
    "Temp 38.9 this evening, apyrexial this morning", "Temp 38.9, mother apyrexial",
    "Temp 38.9, fever settled yesterday but recurred", "Temp 38.9, temp down from 39.5 earlier",
    # the third review: a 24-hour clock after where it was taken is no year
    "Temp 39.2 on arrival 2015", "Temp 38.9 at home 1930", "Temp 39.1 in ED 1945, HR 110",
])
def test_an_apyrexial_of_another_time_or_person_keeps_the_fever(text: str) -> None:
    (temperature,) = temperatures_in_words(text, closes_negated)
    assert temperature.celsius >= 38.9


@pytest.mark.parametrize("text", REVIEW_NOT_READ)
def test_the_reviews_false_fevers_are_not_read(text: str) -> None:
    assert [t for t in temperatures_in_words(text, closes_negated) if t.rank >= 38.0] == []


@pytest.mark.parametrize("text", ["Temp 1000 mg", "T 1200", "Temp at 1400", "TPR 1200 dyn"])
def test_a_time_or_another_quantity_alone_is_none(text: str) -> None:
    assert temperatures_in_words(text, closes_negated) == ()


@pytest.mark.parametrize("text", [
    "Temp >38 [x]", "Temp > 38 (Y/N): Y", "Red flags: temp > 38 - yes", "Temp >38? Yes",
    "Temp >38? Y", "Neuro normal\nTemp > 38? Yes", "Temp > 38 \u2611",
])
def test_a_ticked_box_or_a_yes_is_the_patients_fever(text: str) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(38.0, ">"),)


@pytest.mark.parametrize("text", [
    # unticked, answered no, asked and not answered, or advice answered yes
    "Temp > 38 (Y/N): N", "Temp >38 [ ]", "Temp > 38 yes/no", "Temp > 38 - Y/N",
    "Temp > 38 Y / N", "Return if temp > 38? Yes", "Safety net: temp > 38 - yes",
    "Advice:\nTemp >38 [x]", "Get help if:\nTemp > 38? Yes",
])
def test_a_box_not_ticked_or_advice_is_not(text: str) -> None:
    assert temperatures_in_words(text, closes_negated) == ()


@pytest.mark.parametrize(("text", "read"), [
    ("Temp 38.9 pain resolved", True), ("Temp 38.9 headache settled", True),
    ("Temp 38.9 and pain resolved", True),
    ("Temp 38.9 resolved", False), ("Temp 38.5 settled with paracetamol", False),
    ("Temp 38.9 pain resolved and temp settled", False),
])
def test_another_symptoms_end_does_not_end_the_fever(text: str, read: bool) -> None:
    assert bool(temperatures_in_words(text, closes_negated)) is read


def _summary(*entries: dict[str, Any]) -> str:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))
    cards = {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}
    return str(cards["conservative-care"]["summary"])


def _observation(code: dict[str, Any], quantity: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "t", "status": "final", "subject": SUBJECT,
            "effectiveDateTime": "2026-02-28T18:00:00Z", "code": code,
            "valueQuantity": quantity}


def test_the_card_names_a_fever_in_a_timed_list_instead_of_reassuring() -> None:
    summary = _summary(local_problem("Temp 36.9 at 0800, 38.9 at 1400"))
    assert summary == ('Safety-net and re-assess: fever (38.9 Cel) in words ("Temp 36.9 at '
                       '0800, 38.9 at 1400") recorded, no red-flag rule met')


@pytest.mark.parametrize(("code", "named"), [
    ({"coding": [{"system": LOCAL, "code": "TEMP"}]}, '(39.2 Cel) in words ("TEMP")'),
    ({"coding": [{"system": LOCAL, "code": "TEMP_TYMP"}]}, '(39.2 Cel) in words ("TEMP TYMP")'),
])
def test_a_local_codes_own_letters_name_the_temperature(code: dict[str, Any],
                                                        named: str) -> None:
    """A flowsheet row sent with its local code alone, no text, no display."""
    quantity = {"value": 39.2, "unit": "Cel"}
    assert f"fever {named}" in _summary(_observation(code, quantity))


@pytest.mark.parametrize("code", ["WARD_TEMP", "DEVICE_TEMP", "TEMP_SET_1", "TEMP_CHANGE"])
def test_a_local_codes_letters_do_not_unname_its_display(code: str) -> None:
    """The review: the letters were read beside the display, and their "ward" or "device"
    refused a display "Temperature" of 39.2 Cel."""
    local = {"coding": [{"system": LOCAL, "code": code, "display": "Temperature"}]}
    assert "fever (39.2 Cel)" in _summary(_observation(local, {"value": 39.2, "unit": "Cel"}))


@pytest.mark.parametrize("code", ["TEMP_ROOM", "ROOMTEMP", "SKIN_TEMP", "TEMPLATE",
                                  "TEMP_ALARM_HIGH", "TEMP_SETPOINT", "MATTRESS_TEMP",
                                  "HOT_PACK_TEMP", "ENV_TEMP", "TEMP_MILK", "TEMP_REFRIG",
                                  "TEMP_BLOOD_BANK", "TEMP_CHAMBER", "INSP_GAS_TEMP",
                                  "STAFF_TEMP", "VISITOR_TEMP"])
def test_a_local_code_naming_another_temperature_is_not(code: str) -> None:
    local = {"coding": [{"system": LOCAL, "code": code}]}
    assert "No red flag recorded" in _summary(_observation(local, {"value": 39.2, "unit": "Cel"}))


@pytest.mark.parametrize(("value", "unit", "celsius"), [
    (39.2, "degrees", 39.2), (102.5, "degrees", 39.167), (39.2, "deg", 39.2),
    (39.2, "\u00b0", 39.2), (102.2, "\u00ba", 39.0), (39.2, "Degree", 39.2),
    (46.0, "degrees", 46.0), (68.0, "degrees", 20.0),
])
def test_a_degree_of_no_named_scale_is_read_by_its_range(value: float, unit: str,
                                                         celsius: float) -> None:
    """A body temperature's Celsius (20-46) and Fahrenheit (68-115) ranges are apart: the
    figure names its scale."""
    assert units.normalise("body_temperature", value, None, unit) == (celsius, "Cel")


@pytest.mark.parametrize("value", [50.0, 60.0, 19.0, 120.0])
def test_a_degree_between_the_scales_is_refused(value: float) -> None:
    assert units.normalise("body_temperature", value, None, "degrees") is None


def test_a_coded_temperature_in_degrees_is_a_measured_fever() -> None:
    """LOINC 8310-5 Body temperature, 39.2 "degrees": before, a unit the service cannot
    convert ("Could not read: 1 measurement") and "Reassure"."""
    coded = _observation({"coding": [{"system": LOINC, "code": "8310-5"}]},
                         {"value": 39.2, "unit": "degrees"})
    assert _summary(coded) == ("Safety-net and re-assess: fever (39.2 Cel) recorded, no "
                               "red-flag rule met")


def test_an_environments_temperature_in_degrees_is_not() -> None:
    environment = _observation({"text": "Environmental temperature"},
                               {"value": 40, "unit": "degrees"})
    assert "No red flag recorded" in _summary(environment)


def test_a_weight_in_degrees_is_still_refused() -> None:
    assert units.normalise("body_weight", 70.0, None, "degrees") is None
