"""A temperature written in figures, or sent as a quantity under a code no value set knows,
is a fever in words (CONS-01 2.20.0, IMG-01 1.16.0, IMG-04 1.15.0; the twenty-fifth and
twenty-sixth sessions' closing notes: "misses temperatures in figures: 'Temp 38.9'").

Before, "Temp 38.9" in a local problem or observation, or a tympanic temperature of 39 °C
under a local code, named no fever: the conservative card said "No
red flag recorded" and "Reassure", and on an order hook IMG-01 offered to remove the draft
imaging. Now the card names "fever (38.9 Cel) in words" at or above FEVER_CELSIUS in the
last FEVER_WINDOW_DAYS, as a measured temperature counts; still no family counts it (an
entry in words never raises an emergency)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.record.negation import closes_negated
from cds_rules.settings import RuleSettings
from cds_rules.temperature_words import Temperature, temperatures_in_words
from cds_rules.weak_words import weak_signs
from tests.unit.core.local_entries import (
    IV_DRUG_USE,
    LOCAL,
    LOINC,
    SNOMED,
    SUBJECT,
    UCUM,
    local_problem,
    with_back_pain,
)

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

READ = [  # (text, the temperatures read: (Celsius, comparator))
    ("Temp 38.9", [(38.9, None)]), ("T 39.1 C", [(39.1, None)]),
    ("Temperature: 101.3F", [(38.5, None)]), ("Tmax 38.6", [(38.6, None)]),
    ("T-max 38.9", [(38.9, None)]), ("T >38 overnight", [(38.0, ">")]),
    ("Temp 38", [(38.0, None)]), ("temp 38,6", [(38.6, None)]),
    ("Obs: T 38.4 HR 108 BP 130/80 RR 20", [(38.4, None)]),
    ("BP 120/80, T 38.1, P 96", [(38.1, None)]), ("Temp 37.5-38.6 overnight", [(38.6, None)]),
    ("Temp 100.4", [(38.0, None)]), ("Temp 103", [(39.44, None)]),
    ("Temperature of 39 degrees", [(39.0, None)]), ("Temp was 39.2", [(39.2, None)]),
    ("temp spiked to 39.4 overnight", [(39.4, None)]), ("Max temp 39", [(39.0, None)]),
    ("Patient temp 38.2\u00b0C", [(38.2, None)]), ("T: 38.7", [(38.7, None)]),
    ("temperature 38.5 degrees C", [(38.5, None)]), ("Temp over 38 yesterday", [(38.0, ">")]),
    ("Took temp at home: 38.6", [(38.6, None)]), ("Home temp readings up to 39", [(39.0, None)]),
    # a measurement after a denial of the word: the figure is the patient's
    ("No fever, temp 38.5", [(38.5, None)]), ("Denies fever. Temp 38.5", [(38.5, None)]),
    # below any threshold, read as what it is (the rule judges it)
    ("Temp 36.8", [(36.8, None)]), ("Temp 98.6F", [(37.0, None)]), ("Temp < 37.5", [(37.5, "<")]),
]

NOT_READ = [
    # a tooth, a vertebra, a time, another number
    "T 38", "T12 fracture", "T 3.8", "Temp 385", "Temperature 40 mins", "temp 38 weeks",
    "Temporal artery 38.5", "Temp normal",
    # a plan or advice with a bound
    "Return if temp > 38", "Paracetamol for T 38+", "T >38 -> blood cultures",
    # a room's, a fridge's, a device's
    "Room temp 38", "Fridge temperature 39.0", "Target temp 38",
    # another person's, the past, over, answered no
    "Mother: temp 38.5", "History of temp 39.5 in 2019", "Temp 38.5 settled with paracetamol",
    "Temp 38.5 - no",
]


@pytest.mark.parametrize(("text", "read"), READ)
def test_a_temperature_in_figures_is_read_in_celsius(
        text: str, read: list[tuple[float, str | None]]) -> None:
    assert temperatures_in_words(text, closes_negated) == tuple(
        Temperature(celsius, comparator) for celsius, comparator in read)


@pytest.mark.parametrize("text", NOT_READ)
def test_a_number_that_is_no_temperature_of_the_patient_is_not(text: str) -> None:
    assert temperatures_in_words(text, closes_negated) == ()


# The review of the first version: a number cut short by a unit that is no temperature's,
# a plan, a question, a device, another person, the past read as the patient's fever now
REVIEW_NOT_READ = [
    "Temp 38.5 mmol/L", "Temp 385 ml", "Temp 38.5 weeks", "T 38.5 nmol",
    "Total T 38.5 nmol/L",
    "Safety net: temp > 38 = ED", "Safety-netted re temp >38.", "Attend ED with temp 38+",
    "Sepsis screen: temp > 38.3", "Temp > 38 (Y/N): N", "Temp >38 [ ]",
    "Temp >38 in last 24h? not checked",
    "Warmer set to temp 38", "Bair hugger temp 43", "Hot water bottle temp 40",
    "Wife's temp 38.9", "Baby temp 38.5",
    "Temp 39 in 2019", "Temp 39 3 weeks ago", "Previous temp 39.2",
]
REVIEW_READ = [  # ... and what it found missed
    ("Temp. 38.9", [(38.9, None)]), ("Temp.: 38.9", [(38.9, None)]),
    ("Temps 37.2, 38.4, 39.1", [(39.1, None)]), ("Temp 37.2 then 38.9", [(38.9, None)]),
    ("Temp 37.2 / 38.9", [(38.9, None)]), ("Temp 38.0-37.2", [(38.0, None)]),
    ("Temp has been 38.9", [(38.9, None)]), ("Temperature recorded as 38.9", [(38.9, None)]),
    ("Temp went up to 39", [(39.0, None)]), ("temp higher than 38", [(38.0, ">")]),
    ("Tympanic 38.9", [(38.9, None)]), ("Obs: T 39 P 120", [(39.0, None)]),
    ("Temp 38 or less", [(38.0, "<=")]), ("On room air T 38.5", [(38.5, None)]),
    ("Full set of obs: T 38.5", [(38.5, None)]), ("Temp 39 2 days ago", [(39.0, None)]),
]


# The second review: what still gave "Reassure" (a device word anywhere before the figure,
# the reading cap spent on non-temperatures, long lists, brackets, a vitals list's "T 39") and
# what still read a fever that is not one (troponin T, ECG axes, advice, references, units)
SECOND_REVIEW_READ = [
    "Ward round: T 38.9, HR 110", "Post-op wound check temp 38.9",
    "Wound infection with temp 38.9", "Urine dip +ve nitrites temp 38.9",
    "Swollen knee and temp 38.9", "Septic joint? Temp 38.9",
    " ".join(f"T 36.{i % 10}," for i in range(20)) + " 20:00 T 39.1",
    "Spine: T 10, T 11, T 12, L 1 tender. " * 7 + "Temp 39.1",
    "Temp 36.5, 36.8, 37.0, 37.1, 37.3, 37.9, 38.9", "Temp 36.5/36.8/37.0/37.1/37.3/37.9/38.9",
    "Temp (38.9)", "Temp raised (38.9)", "Temperature (39.1C)", "HR 118, BP 102/64, T 39",
    "T 101, P 110", "Screened for sepsis: T 39.1", "Temp in ED 38.9", "Temp on arrival 38.9",
    "Temp this am 38.9", "Temp increased to 38.9", "Temp elevated at 38.9",
    "Temp documented as 38.9", "T\u00b0 38.9", "T(\u00b0C) 38.9", "Temp \u00b0C 38.9",
    "Temperature | 38.9", "BT 38.5", "Tc 100.9",
]
SECOND_REVIEW_NOT_A_FEVER = [
    "Trop T 38.5 ng/L", "Troponin T 39.5 ng/L", "Trop T 40.2", "Troponin T: 42 ng/L",
    "ECG axes P:55 QRS:38 T:42", "Temp 38+ - call 111", "Temp 38+, call 111",
    "Temp 38 or above, call 111", "Temperature over 38 is a red flag",
    "Temperature of 38 or above could be a sign of infection", "Advice:\nTemp >38 - attend ED",
    "Get help if:\nyour temperature is 38C or above",
    "Safety netting advice given. Temperature above 38C.", "SIRS: T >38 or <36, HR >90",
    "Paracetamol 1g QDS PRN\nT > 38", "Paracetamol 1g PRN for temp 38.5", "Normal temp 36-38",
    "Temperature 38.1-39.0 (1 point)", "Works temp 40 hrs per week", "T 39.0 s", "T 38.5 h",
    "Tmax 38.2 h post dose", "Temp 38.5 microg", "T 38.5 lb", "T 38.5 L/min", "Temp 38 ng/L",
    "Temp 40 x daily", "Sauna temp 40", "Heat pack temp 40 applied",
    "Hydrotherapy pool temperature 38.5", "T: 38 MOD filling", "Temp 39 two weeks ago",
    "Temp 39 a month ago", "Temp 39 2/52 ago", "Grandson temp 39", "Wife\u2019s temp 38.9",
    "Tc 99m scan",
]


# The fourth review (of the third's mends): a dosing word anywhere earlier in the sentence,
# or an ordinary word ("normal", "discussed") in it or the sentence before, hid a real fever
FOURTH_REVIEW_READ = [
    "Ibuprofen 400mg TDS, T 38.6 HR 104", "Started flucloxacillin 1g QDS, temp 39.2 this am",
    "Analgesia as required, temp 38.9 on review", "Omeprazole 20mg BD and temp 38.9 tonight",
    "Given paracetamol 1g PRN, temp 38.9",
    "On co-codamol 30/500 2 tabs QDS PRN for pain, temp 38.9 on arrival",
    "Neuro exam normal. Temp >38 at home for 3 days", "Neuro: normal\nTemp >38 overnight",
    "Bloods normal, temp >38 overnight", "Bloods normal, temp 38.5-39.4 overnight",
    "Neuro exam normal. Temp 38-39 at home for 3 days",
    "Discussed with registrar. Temp >38 overnight",
    "Patient aware of diagnosis. Temps 38-39 at home", "Sepsis 6 started. Temp >39 on arrival",
    "Reflexes normal, temp 39+ at home", "Seen with your GP yesterday. Temp >38 overnight",
    "Temp 36.9, then 38.9", "Return if temp > 39, temp 38.5 today",
]


@pytest.mark.parametrize("text", FOURTH_REVIEW_READ)
def test_the_fourth_reviews_hidden_fevers_are_read(text: str) -> None:
    (temperature,) = temperatures_in_words(text, closes_negated)
    assert temperature.celsius >= 38.0 and temperature.comparator not in ("<", "<=")


@pytest.mark.parametrize("text", SECOND_REVIEW_READ)
def test_the_second_reviews_missed_fevers_are_read(text: str) -> None:
    (temperature,) = temperatures_in_words(text, closes_negated)
    assert temperature.celsius >= 38.0 and temperature.comparator not in ("<", "<=")


@pytest.mark.parametrize("text", SECOND_REVIEW_NOT_A_FEVER)
def test_the_second_reviews_false_fevers_are_not(text: str) -> None:
    assert not [t for t in temperatures_in_words(text, closes_negated)
                if t.celsius >= 38.0 and t.comparator not in ("<", "<=")]


@pytest.mark.parametrize("text", REVIEW_NOT_READ)
def test_the_reviews_false_temperatures_are_not_read(text: str) -> None:
    assert temperatures_in_words(text, closes_negated) == ()


@pytest.mark.parametrize(("text", "read"), REVIEW_READ)
def test_the_reviews_missed_temperatures_are_read(
        text: str, read: list[tuple[float, str | None]]) -> None:
    assert temperatures_in_words(text, closes_negated) == tuple(
        Temperature(celsius, comparator) for celsius, comparator in read)


def _cards(*entries: dict[str, Any], hook: str = "patient-view",
           settings: RuleSettings | None = None) -> dict[str, dict[str, Any]]:
    drafts = (_DRAFT_MRI,) if hook == "order-sign" else ()
    request = HookRequest(hook=hook, patient_id="p", resources=with_back_pain(*entries),
                          draft_orders=drafts)
    result = evaluate(request, NOW, settings) if settings else evaluate(request, NOW)
    return {c["source"]["topic"]["code"]: c for c in to_json(result.cards)}


_DRAFT_MRI = {"resourceType": "ServiceRequest", "id": "mri", "status": "draft",
              "intent": "order", "subject": SUBJECT,
              "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}]}}


def _summary(*entries: dict[str, Any], settings: RuleSettings | None = None) -> str:
    return str(_cards(*entries, settings=settings)["conservative-care"]["summary"])


@pytest.mark.parametrize(("text", "named"), [
    ("Temp 38.9", 'fever (38.9 Cel) in words ("Temp 38.9")'),
    ("Temperature: 101.3F", 'fever (38.5 Cel) in words ("Temperature: 101.3F")'),
    ("T >38 overnight", 'fever (>38 Cel) in words ("T >38 overnight")'),
])
def test_the_conservative_card_names_the_fever_instead_of_reassuring(text: str,
                                                                     named: str) -> None:
    card = _cards(local_problem(text))["conservative-care"]
    assert card["summary"] == f"Safety-net and re-assess: {named} recorded, no red-flag rule met"
    assert "Reassure" not in card["detail"]
    assert "`BACKPAIN_CDS_FEVER_CELSIUS` = 38" in card["detail"]
    assert "_Rule CONS-01 v2.23.1._" in card["detail"]


@pytest.mark.parametrize("text", ["Temp 37.9", "Temp 37.2", "Temp < 38.5", "Temp 99.9F",
                                  "Temp 38 or less", "T < 39"])
def test_a_temperature_below_the_threshold_names_nothing(text: str) -> None:
    assert "No red flag recorded" in _summary(local_problem(text))


def test_the_site_threshold_is_the_rules() -> None:
    assert "No red flag recorded" in _summary(local_problem("Temp 37.8"))
    lowered = _summary(local_problem("Temp 37.8"), settings=RuleSettings(fever_celsius=37.5))
    assert 'fever (37.8 Cel) in words ("Temp 37.8")' in lowered
    raised = _summary(local_problem("Temp 38.9"), settings=RuleSettings(fever_celsius=39.0))
    assert "No red flag recorded" in raised


def test_a_fever_window_longer_than_the_cauda_equina_windows_is_the_fevers() -> None:
    """The review: a temperature in figures of 18 days ago under a 21-day fever window is
    named, as a measured one of the same day is (the cauda equina window, 14 days, is the
    words' own)."""
    longer = RuleSettings(fever_window_days=21)
    assert "fever (38.9 Cel)" in _summary(local_problem("Temp 38.9", onset="2026-02-11"),
                                          settings=longer)


def test_a_temperature_counts_in_the_fever_window_as_a_measured_one() -> None:
    """Ten days ago: outside FEVER_WINDOW_DAYS (7), as a measured temperature would be;
    a fever in words of the same day ("Febrile") stays in the cauda equina window (14)."""
    assert "No red flag recorded" in _summary(local_problem("Temp 38.9", onset="2026-02-19"))
    assert "fever in words" in _summary(local_problem("Febrile", onset="2026-02-19"))
    assert "fever (38.9 Cel)" in _summary(local_problem("Temp 38.9", onset="2026-02-25"))
    widened = RuleSettings(fever_window_days=14)
    assert "fever (38.9 Cel)" in _summary(local_problem("Temp 38.9", onset="2026-02-19"),
                                          settings=widened)


def test_a_word_for_the_fever_names_it_once() -> None:
    assert _summary(local_problem("Febrile, temp 38.9")) == (
        'Safety-net and re-assess: fever in words ("Febrile, temp 38.9") recorded, no '
        "red-flag rule met")


def _observation(code: dict[str, Any], quantity: dict[str, Any],
                 **more: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "t", "status": "final", "subject": SUBJECT,
            "effectiveDateTime": "2026-02-28T18:00:00Z", "code": code,
            "valueQuantity": quantity, **more}


_CEL = {"value": 39.2, "unit": "Cel", "system": UCUM, "code": "Cel"}
_DEG_F = {"value": 102.2, "unit": "degF", "system": UCUM, "code": "[degF]"}


@pytest.mark.parametrize(("code", "quantity", "named"), [
    # a LOINC coding sent without its code: only its display says what it holds
    ({"coding": [{"system": LOINC, "display": "Tympanic membrane temperature"}]}, _DEG_F,
     'fever (39 Cel) in words ("Tympanic membrane temperature")'),
    ({"coding": [{"system": LOCAL, "code": "TEMP"}], "text": "Temp"}, _CEL,
     'fever (39.2 Cel) in words ("Temp")'),
    ({"coding": [{"system": LOCAL, "code": "AX", "display": "Axillary temperature"}]},
     {"value": 38.1, "unit": "\u00b0C"}, 'fever (38.1 Cel) in words ("Axillary temperature")'),
])
def test_a_temperature_sent_under_a_code_no_value_set_knows_is_named(
        code: dict[str, Any], quantity: dict[str, Any], named: str) -> None:
    assert named in _summary(_observation(code, quantity))


def test_a_temperature_in_a_local_panels_component_is_named() -> None:
    panel = {"resourceType": "Observation", "id": "obs", "status": "final", "subject": SUBJECT,
             "effectiveDateTime": "2026-02-28T18:00:00Z",
             "code": {"coding": [{"system": LOCAL, "code": "VITALS"}], "text": "Observations"},
             "component": [{"code": {"text": "Pulse"},
                            "valueQuantity": {"value": 112, "unit": "/min"}},
                           {"code": {"text": "Temperature"}, "valueQuantity": _CEL}]}
    assert 'fever (39.2 Cel) in words ("Temperature")' in _summary(panel)


@pytest.mark.parametrize(("code", "quantity"), [
    ({"text": "Room temperature"}, _CEL), ({"text": "Temperature of specimen"}, _CEL),
    ({"text": "Target temperature"}, _CEL), ({"text": "Warming blanket temperature"}, _CEL),
    # LOINC 60830-7 Finger temperature (VSAC Body Temperature; left out of body_temperature)
    ({"coding": [{"system": LOINC, "code": "60830-7", "display": "Finger temperature"}]}, _CEL),
    ({"text": "Temperature"}, {"value": 39.2}),  # no unit: unknowable
    ({"text": "Temperature"}, {"value": 39.2, "unit": "mmol/L"}),
    ({"text": "Temperature"}, {"value": 37.1, "unit": "Cel"}),
    ({"text": "Pulse"}, _CEL),
])
def test_another_temperature_or_unit_is_not(code: dict[str, Any],
                                            quantity: dict[str, Any]) -> None:
    assert "No red flag recorded" in _summary(_observation(code, quantity))


def test_an_observation_in_error_names_nothing() -> None:
    entry = _observation({"text": "Temperature"}, _CEL, status="entered-in-error")
    assert "No red flag recorded" in _summary(entry)


def test_a_coded_body_temperature_is_read_by_its_code_not_again() -> None:
    coded = _observation({"coding": [{"system": LOINC, "code": "8310-5"}],
                          "text": "Temp 39.2"}, _CEL)
    assert _summary(coded) == ("Safety-net and re-assess: fever (39.2 Cel) recorded, no "
                               "red-flag rule met")


def test_no_family_counts_it_beside_a_coded_drug_use() -> None:
    cards = _cards(local_problem("Temp 39.4"), IV_DRUG_USE)
    assert set(cards) == {"conservative-care"}
    assert "fever (39.4 Cel) in words" in cards["conservative-care"]["summary"]


def test_on_an_order_hook_the_draft_imaging_is_not_called_unneeded() -> None:
    imaging = _cards(local_problem("Temp 38.9"), hook="order-sign")["imaging-not-indicated"]
    assert imaging["indicator"] == "info"
    assert imaging["summary"].startswith('Re-assess fever (38.9 Cel) in words ("Temp 38.9") '
                                         "before deciding on the spine imaging")
    assert "suggestions" not in imaging
    assert "_Rule IMG-01 v1.19.1._" in imaging["detail"]


@pytest.mark.parametrize("text", [
    "Temp 38.5 " * 100_000, "T " * 500_000, "Temp 38." * 120_000, "temp " + "3" * 1_000_000,
    "Temp 38,5," * 100_000, "T 38.5 degrees " * 70_000, "temp 38-39-40-41-" * 60_000,
    "temp" + " " * 1_000_000 + "38", "temp" + " " * 1_000_000 + "x", "Temp:" + "\n" * 1_000_000,
    "t" + "\u00a0" * 1_000_000 + "x", "Temp (" * 160_000, "T: " * 330_000,
    "Temp 38.5 or " * 80_000, "Temp 37.2, " + "37.2, " * 160_000, "temp 37.2 -> " * 80_000,
])
def test_a_megabyte_of_figures_is_read_in_linear_time(text: str) -> None:
    """At most 400 figures are read a text and 40 asked whether the patient's (a note, not a
    chart), each blank run entered once: a megabyte is read in seconds, not hours (the
    reviews: 32 KB of blanks after "Temp" took 9 s). A liveness check with a wide bound,
    not a timing."""
    started = time.monotonic()
    found = temperatures_in_words(text, closes_negated)
    assert len(found) <= 1
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(("text", "signs"), [("Hyperpyrexia", ("fever",)),
                                             ("Hyperpyrexial overnight", ("fever",)),
                                             ("No hyperpyrexia", ())])
def test_hyperpyrexia_is_a_fever_in_words(text: str, signs: tuple[str, ...]) -> None:
    """The twenty-sixth session's note: "Hyperpyrexia" was not read."""
    assert weak_signs(text, closes_negated) == signs


# body_temperature 1.1.0: the VSAC Body Temperature value set's core and near-core LOINC codes
# (tympanic, axillary, rectal, temporal artery, core...), read as a measured temperature
@pytest.mark.parametrize(("code", "display"), [
    ("8333-7", "Tympanic membrane temperature"), ("8328-7", "Axillary temperature"),
    ("8332-9", "Rectal temperature"), ("75539-7", "Body temperature - Temporal artery")])
def test_a_temperature_coded_at_a_site_is_a_measured_fever(code: str, display: str) -> None:
    coded = _observation({"coding": [{"system": LOINC, "code": code, "display": display}]},
                         _CEL)
    assert _summary(coded) == ("Safety-net and re-assess: fever (39.2 Cel) recorded, no "
                               "red-flag rule met")
    infection = _cards(coded, IV_DRUG_USE)["infection"]  # INF-01 counts it, as 8310-5
    assert infection["indicator"] == "warning"


@pytest.mark.parametrize("quantity", [{"value": 102.5, "unit": "degrees F"},
                                      {"value": 102.5, "unit": "deg F"},
                                      {"value": 102.5, "unit": "Fahrenheit"},
                                      {"value": 312.35, "unit": "K"}])
def test_a_quantity_in_an_everyday_unit_spelling_is_read(quantity: dict[str, Any]) -> None:
    """The review: a unit was judged by converting 37 in it (37 °F is no body's)."""
    assert "fever (39.2 Cel) in words" in _summary(_observation({"text": "Temperature"},
                                                                quantity))


def test_an_undated_temperature_is_named() -> None:
    undated = {k: v for k, v in _observation({"text": "Temperature"}, _CEL).items()
               if k != "effectiveDateTime"}
    assert 'fever (39.2 Cel) in words ("Temperature")' in _summary(undated)


def test_a_word_for_a_fever_beside_a_normal_figure_names_the_word() -> None:
    """"Febrile, temp 37.2": the word names the fever (the safe side); the clinician reads
    the figure in the quoted words. "Afebrile, temp 38.2": the figure does."""
    assert 'fever in words ("Febrile, temp 37.2")' in _summary(local_problem(
        "Febrile, temp 37.2"))
    assert 'fever (38.2 Cel) in words ("Afebrile, temp 38.2")' in _summary(local_problem(
        "Afebrile, temp 38.2"))


def test_imaging_for_subacute_pain_is_not_called_unneeded_over_it() -> None:
    """IMG-04 (ACR variant 2): back pain since 10 weeks, a draft MRI, "Temp 38.9"."""
    chronic = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
               "clinicalStatus": {"coding": [{
                   "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                   "code": "active"}]},
               "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
               "onsetDateTime": "2025-12-15"}
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1986-05-01"}
    request = HookRequest(hook="order-sign", patient_id="p", draft_orders=(_DRAFT_MRI,),
                          resources=(patient, chronic, local_problem("Temp 38.9")))
    cards = {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}
    imaging = cards["imaging-not-indicated"]
    assert imaging["summary"].startswith('Re-assess fever (38.9 Cel) in words ("Temp 38.9")')
    assert "suggestions" not in imaging and "_Rule IMG-04 v1.18.1._" in imaging["detail"]


@pytest.mark.parametrize(("code", "value", "named"), [
    ({"text": "Temperature"}, {"valueString": "38.9"}, 'fever (38.9 Cel) in words ("Temperature")'),
    ({"text": "Temperature"}, {"valueString": "38.9 C"},
     'fever (38.9 Cel) in words ("Temperature")'),
    ({"text": "Temperature"}, {"valueInteger": 39}, 'fever (39 Cel) in words ("Temperature")'),
    ({"text": "Temperature"}, {"valueInteger": 102}, 'fever (38.9 Cel) in words ("Temperature")'),
    ({"coding": [{"system": LOCAL, "code": "T1", "display": "TEMP_TYMP"}]},
     {"valueQuantity": _CEL}, 'fever (39.2 Cel) in words ("TEMP TYMP")'),
    ({"coding": [{"system": LOCAL, "code": "T2", "display": "BodyTemp"}]},
     {"valueQuantity": _CEL}, 'fever (39.2 Cel) in words ("Body Temp")'),
])
def test_a_temperature_held_as_a_number_or_under_a_joined_name_is_read(
        code: dict[str, Any], value: dict[str, Any], named: str) -> None:
    """The review: a value in words or a whole number under "Temperature", a local display
    written "TEMP_TYMP" or "BodyTemp", named no fever."""
    entry = {"resourceType": "Observation", "id": "t", "status": "final", "subject": SUBJECT,
             "effectiveDateTime": "2026-02-28T18:00:00Z", "code": code, **value}
    assert named in _summary(entry)


@pytest.mark.parametrize(("code", "value"), [
    ({"text": "Temperature"}, {"valueString": "Normal"}),
    ({"text": "Temperature"}, {"valueInteger": 7}),
    ({"coding": [{"system": LOINC, "display": "Temperature of Urine"}]}, {"valueQuantity": _CEL}),
    ({"text": "Humidifier temperature"}, {"valueQuantity": _CEL}),
    ({"text": "ECMO circuit temperature"}, {"valueQuantity": _CEL}),
])
def test_no_temperature_of_the_body_is_read_from_these(code: dict[str, Any],
                                                       value: dict[str, Any]) -> None:
    entry = {"resourceType": "Observation", "id": "t", "status": "final", "subject": SUBJECT,
             "effectiveDateTime": "2026-02-28T18:00:00Z", "code": code, **value}
    assert "No red flag recorded" in _summary(entry)


@pytest.mark.parametrize(("text", "named"), [
    ("Febrile", 'fever in words ("Febrile")'), ("Lost 6kg", 'weight loss in words ("Lost 6kg")'),
    ("Temp 38.9", 'fever (38.9 Cel) in words ("Temp 38.9")')])
def test_a_weak_red_flag_in_words_dated_ahead_is_checked_first(text: str, named: str) -> None:
    """The twenty-sixth session's note: a fever or weight loss in words dated three days
    after the clock gave "No red flag recorded" and "Reassure" (no window reads a date ahead);
    now, as for a coded one, "Check the date" first, no "Reassure"."""
    card = _cards(local_problem(text, onset="2026-03-04"))["conservative-care"]
    assert card["summary"] == (f"Check the date of {named}: recorded after today, not "
                               "counted as a red flag")
    assert "Reassure" not in card["detail"]
    imaging = _cards(local_problem(text, onset="2026-03-04"),
                     hook="order-sign")["imaging-not-indicated"]
    assert "suggestions" not in imaging


def test_a_normal_temperature_dated_ahead_is_no_red_flag() -> None:
    assert "No red flag recorded" in _summary(local_problem("Temp 37.1", onset="2026-03-04"))


@pytest.mark.parametrize("unit", ["\u00baC", "\u00b0 C", "centigrade", "degree Celsius"])
def test_a_coded_temperature_in_another_unit_spelling_is_a_measured_fever(unit: str) -> None:
    """The second review: LOINC 8310-5 valued 39.2 in "ºC" (the ordinal sign) or
    "centigrade" was refused as an unknown unit: no fever read, "Reassure"."""
    coded = _observation({"coding": [{"system": LOINC, "code": "8310-5"}]},
                         {"value": 39.2, "unit": unit})
    assert _summary(coded) == ("Safety-net and re-assess: fever (39.2 Cel) recorded, no "
                               "red-flag rule met")
