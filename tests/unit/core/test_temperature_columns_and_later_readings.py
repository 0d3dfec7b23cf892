"""Temperatures the twenty-eighth session's note listed as still not read, and the forms
found beside them (CONS-01 2.22.0, IMG-01 1.18.0, IMG-04 1.17.0): a flowsheet's column with a
qualifier in brackets before blanks, a tab or a line ("Temperature (°C)<tab>38.9"), a later
reading after its word ("Temp 36.5, now 38.9"), a list beside a weight ("T 38.9, 72.5 kg"),
a TPR with a saturation or written "T/P/R", a clock in a table's bars, a box ticked after
"Seen for ...".

Before, each gave the conservative card's "No red flag recorded" and "Reassure" over a
fever of 38.9 °C, or (a later reading) read only the first, normal, figure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.catalogue import RULES
from cds_rules.record.negation import closes_negated
from cds_rules.temperature_words import Temperature, temperatures_in_words
from tests.unit.core.local_entries import local_problem, with_back_pain

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

READ = [  # (words, the temperature read in Celsius); each read nothing or less before
    # a flowsheet's column: a qualifier in brackets, then blanks, a tab or a line
    ("Temperature (°C)\t38.9", 38.9), ("Temperature (C)\t38.9", 38.9),
    ("Temperature (°C)  38.9", 38.9), ("Temperature (oral)\t38.9", 38.9),
    ("Temp (tympanic)\t38.9", 38.9), ("Temperature (°C)\t38.9\tHR\t110", 38.9),
    ("Temperature (°C)\n38.9", 38.9), ("Temperature (°F)\t101.3", 38.5),
    # a flowsheet row's columns under a header of times or dates: the highest
    ("\t08:00\t12:00\t16:00\nTemperature (°C)\t36.9\t37.4\t38.6", 38.6),
    ("Time | 08:00 | 14:00\nTemp | 36.8 | 38.9", 38.9),
    ("Obs\t0800\t1200\nHR\t80\t90\nTemperature\t36.9\t38.6", 38.6),
    ("Date\t12/10\t13/10\nTemp\t36.9\t38.6", 38.6),
    # a later reading after its word: the highest
    ("Temp 36.5, now 38.9", 38.9), ("Temp 36.8 this morning, now 39.2", 39.2),
    ("Temp 37.1 earlier, now 38.9", 38.9), ("Temp 36.9 on arrival, rising to 38.9", 38.9),
    ("Temp 36.9, later 38.9", 38.9), ("Temp was 36.9, now 38.9", 38.9),
    ("Temp 37.1 initially, 38.9 at 1400", 38.9), ("T 36.5 overnight, increased to 38.9", 38.9),
    ("Temp 37 at 0800, then later 38.9 (oral)", 38.9), ("Temp 36.5, now 39", 39.0),
    ("Temp 36.5, now 39C", 39.0), ("Temp <38.0 at triage, now 39.2", 39.2),
    # a list beside a figure in another unit: the temperature kept
    ("Temp 39.1, 65.2 kg", 39.1), ("T 38.9, 72.5kg", 38.9),
    # a TPR with a saturation, or written T/P/R
    ("TPR 38.9/120/24/98%", 38.9), ("T/P/R 38.9/120/24", 38.9), ("t/p/r: 39.1/110/22", 39.1),
    # a clock in a table's bars
    ("Temp | 1400 | 38.9", 38.9), ("Temp | 14:00 | 38.9", 38.9),
]


@pytest.mark.parametrize(("text", "celsius"), READ)
def test_a_temperature_in_these_forms_is_read(text: str, celsius: float) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(celsius),)


def test_a_box_ticked_after_seen_for_is_the_patients_fever() -> None:
    """"for" counts as a plan's word in the figure's own item only (before: anywhere in the
    sentence, so "Seen for back pain, ..." made the ticked box advice)."""
    assert temperatures_in_words("Seen for back pain, Temp >38.9 [x]", closes_negated) == (
        Temperature(38.9, ">"),)


@pytest.mark.parametrize("text", [
    "Paracetamol for temp > 38 [x]", "Return for review if: temp > 38 [x]",
    "Advice for: temp > 38 [x]",
    # the review of the first version: safety-netting checklists
    "Look out for: leg weakness [x], temp > 38 [x]",
    "Reasons to come back for: numbness, temp >38 [x]", "Watch for: fever, temp > 38 [x]",
])
def test_a_box_in_a_prescription_or_advice_is_not(text: str) -> None:
    assert temperatures_in_words(text, closes_negated) == ()


@pytest.mark.parametrize(("text", "celsius"), [
    # another row's columns are not the temperature's
    ("Temp\t36.9\tSpO2\t98.2\t97.5", 36.9), ("SpO2\t98.2\t97.5\nTemp\t36.9", 36.9),
    # with no header of times the columns may be a value and its reference range (the
    # second review: "Temp<tab>37.5<tab>36.5<tab>38.0" read 38.0): the first, as before
    ("Temp\t37.5\t36.5\t38.0", 37.5), ("Temperature (°C)\t36.9\t37.4\t38.6", 36.9),
    # ... nor under a header naming a value and its range, nor one with fewer times than the
    # row's figures (the third review: each read 38.0)
    ("Time\t08:00\t12:00\nParameter\tValue\tRef range\nTemp\t37.2\t36.0\t38.0", 37.2),
    ("Date\t12/10\t13/10\nTest\tResult\tLow\tHigh\nTemp\t37.2\t36.0\t38.0", 37.2),
    ("Time\t08:00\t12:00\nTemp\t37.2\t36.0\t38.0\tref", 37.2),
    ("Ref\t12/10\t1/2\nTemp\t37.2\t36.0\t38.0", 37.2),
    # a later reading below the first: the highest still (a fever ends only in words)
    ("Temp 38.9, now 36.9", 38.9), ("Temp 39.2 yesterday, now 37.0", 39.2),
    # a later figure that is no temperature's
    ("Temp 36.5, now 2 days of pain", 36.5), ("Temp 39.1, now 65.2 kg", 39.1),
])
def test_a_later_word_keeps_the_highest_reading(text: str, celsius: float) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(celsius),)


@pytest.mark.parametrize("text", [
    # the review of the first version: a bound lost its comparator beside a later figure
    # ("now 37.4" is no fever; a plan's bound stays a plan's)
    "Sepsis screen: temp > 38, now 37.4", "SIRS: T >38, now 37.2",
    "Safety net: temp > 38.5, now 37.2",
    # a column's qualifier that names no reading of now, or an empty cell before the next row
    "Obs chart\nTemperature (normal range)\t36.0 - 38.0\nActual\t37.1",
    "Temp (target):\t38.5", "Temp (threshold)  38.3", "Temp (previous)  39.1",
    "Temperature (\u00b0C)\t\t\n101\tBP",
])
def test_a_plans_bound_or_a_columns_other_reading_is_no_fever(text: str) -> None:
    assert [t for t in temperatures_in_words(text, closes_negated)
            if t.comparator not in ("<", "<=") and t.celsius >= 38.0] == []


@pytest.mark.parametrize(("text", "celsius"), [
    ("Temp <38.0 at triage, now 37.4", 37.4), ("Temp 38 or less, later 37.5", 37.5),
    ("Temp below 38.0, now 37.6", 37.6),
])
def test_a_bound_below_beside_a_later_figure_reads_the_figure(text: str, celsius: float) -> None:
    assert temperatures_in_words(text, closes_negated) == (Temperature(celsius),)


def _summary(*entries: dict[str, Any]) -> str:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))
    cards = {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}
    return str(cards["conservative-care"]["summary"])


@pytest.mark.parametrize("text", ["Temperature (°C)\t38.9", "Temp 36.5, now 38.9"])
def test_the_card_names_the_fever_instead_of_reassuring(text: str) -> None:
    assert _summary(local_problem(text)).startswith(
        "Safety-net and re-assess: fever (38.9 Cel) in words")
    changes = {r.id: r.changes for r in RULES if r.id in ("CONS-01", "IMG-01", "IMG-04")}
    assert "2.22.0: a temperature in a flowsheet's column" in changes["CONS-01"]
    assert "1.18.0: a temperature in a flowsheet's column" in changes["IMG-01"]
    assert "1.17.0: a temperature in a flowsheet's column" in changes["IMG-04"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("unit", "read"), [
    ("Temp 36.5, now ", (Temperature(36.5),)), ("TPR 38.9/1/1/", (Temperature(38.9),)),
    ("T 38.9, 72.5kg, ", (Temperature(38.9),)),
    # no figure of a body's temperature in them: nothing read
    ("Temp (°C) ", ()), ("Temp (", ()), ("t/p/r ", ()), (", rising to", ()),
    ("Temp | 1400 | ", ()),
])
def test_a_megabyte_of_these_forms_is_read_in_one_pass(unit: str,
                                                       read: tuple[Temperature, ...]) -> None:
    """A liveness check at the worker's timeout (30 s), not a speed target: each new form's
    words repeated over a megabyte (about a second each on this machine), read as once."""
    assert temperatures_in_words(unit * (1_000_000 // len(unit)), closes_negated) == read
