"""Quantity.comparator is read (terminology audit, December 2026, finding 12).

FHIR R4: "<" means the real value is less than the stated one. A value bounded above
cannot show a value at or above a threshold ("<38 Cel" is no fever); a value bounded below
cannot show a value under one (">3" is no weakness). What a bound does show still counts:
">39 Cel" is a fever, "<3" a severe weakness, "<4" after a 5 a falling grade.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.model import Fact
from cds_rules.record import build_record
from cds_rules.rules.context import at_least, at_most, below, falling_grades, weight_loss
from cds_rules.settings import DEFAULT_SETTINGS
from tests.unit.core.rule_records import fact, grade, obs, patient, run, topics

PID = "cmp-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _temperature_cards(quantity: dict[str, Any]) -> dict[str, str]:
    """Back pain, IV drug use and one body temperature (LOINC 8310-5) yesterday."""
    resources = (
        {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01", "gender": "male"},
        {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
         "onsetDateTime": "2026-11-18T09:00:00Z"},
        {"resourceType": "Condition", "id": "ivdu", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "228388006"}]},
         "onsetDateTime": "2026-01-01T09:00:00Z"},
        {"resourceType": "Observation", "id": "temp", "status": "final", "subject": SUBJECT,
         "effectiveDateTime": "2026-11-21T09:00:00Z",
         "code": {"coding": [{"system": LOINC, "code": "8310-5"}]}, "valueQuantity": quantity},
    )
    request = HookRequest(hook="patient-view", patient_id=PID, resources=resources)
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(request, NOW).cards)}


def _celsius(value: float, comparator: str | None = None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "unit": "Cel", "system": "http://unitsofmeasure.org",
                                "code": "Cel"}
    if comparator:
        quantity["comparator"] = comparator
    return quantity


@pytest.mark.parametrize("comparator", ["<", "<="])
def test_a_temperature_bounded_above_the_threshold_is_no_fever(comparator: str) -> None:
    assert _temperature_cards(_celsius(38.0, comparator)) == {"conservative-care": "info"}


@pytest.mark.parametrize("quantity", [
    _celsius(39.0, ">"), _celsius(38.0, ">="), _celsius(38.0),
    {"value": 101, "comparator": ">", "unit": "[degF]", "code": "[degF]"},
], ids=[">39", ">=38", "38 measured", ">101 degF"])
def test_a_temperature_shown_at_or_above_the_threshold_is_a_fever(
        quantity: dict[str, Any]) -> None:
    assert _temperature_cards(quantity) == {"infection": "warning"}


def test_the_card_shows_the_bound() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        {"resourceType": "Observation", "id": "t", "status": "final", "subject": SUBJECT,
         "effectiveDateTime": "2026-11-21T09:00:00Z",
         "code": {"coding": [{"system": LOINC, "code": "8310-5"}]},
         "valueQuantity": _celsius(39.0, ">")},))
    [temperature] = build_record(request, NOW, DEFAULT_SETTINGS).facts
    assert temperature.comparator == ">"
    assert " >39 Cel — " in temperature.describe()


def test_an_undefined_comparator_is_read_as_before() -> None:
    """Not one of FHIR's four: the value is taken as measured (a fever stays a fever)."""
    assert _temperature_cards({**_celsius(38.5), "comparator": "ad"}) == {"infection": "warning"}


def _bound(f: Fact, comparator: str) -> Fact:
    return replace(f, comparator=comparator)


def test_threshold_helpers() -> None:
    t = obs("body_temperature", 38.0, unit="Cel")
    assert at_least(t, 38.0) and not at_least(_bound(t, "<"), 38.0)
    assert not at_least(_bound(t, "<="), 38.0) and at_least(_bound(t, ">"), 38.0)
    g = grade(5, 1)
    assert not below(g, 5) and below(_bound(g, "<"), 5) and not below(_bound(grade(4, 1), ">"), 5)
    assert below(grade(4, 1), 5) and below(_bound(grade(4, 1), "<="), 5)
    assert at_most(_bound(grade(3, 1), "<"), 3) and not at_most(_bound(grade(3, 1), ">"), 3)
    # a grade bounded below is its lowest whole grade: ">2" may be 3, ">=3" is at least 3
    assert at_most(_bound(grade(2, 1), ">"), 3) and at_most(_bound(grade(3, 1), ">="), 3)
    assert below(_bound(grade(3, 1), ">"), 5) and below(_bound(grade(4, 1), ">="), 5)


def test_an_mrc_grade_bounded_below_is_read_as_its_lowest_whole_grade() -> None:
    """">3" is 4 or 5: read as 4, a deficit that is not severe on its own, as a measured 4
    (before: read as 3, severe); ">=3" may be 3: severe, as a measured 3."""
    assert "progressive-neurological-deficit" not in topics(run(patient(
        _bound(grade(3, 1), ">"))))
    assert "progressive-neurological-deficit" in topics(run(patient(grade(3, 1))))


def test_an_mrc_grade_bounded_above_at_the_limit_is_a_severe_deficit() -> None:
    """"<3" is at most the severe limit (3): severe, as a measured 3 is; "<4" may be 3.5,
    as a measured 4 it is not severe on its own."""
    assert "progressive-neurological-deficit" in topics(run(patient(_bound(grade(3, 1), "<"))))
    assert "progressive-neurological-deficit" not in topics(run(patient(
        _bound(grade(4, 1), "<"))))


def test_a_lower_bound_after_full_strength_is_a_fall() -> None:
    """5, then ">3" or ">=4": it may be 4, a fall; never read as full strength (independent
    review of this change: it gave the conservative card)."""
    for latest in (_bound(grade(3, 1), ">"), _bound(grade(4, 1), ">=")):
        record = patient(grade(5, 20), latest)
        assert falling_grades(record)
        assert "progressive-neurological-deficit" in topics(run(record))
    assert "progressive-neurological-deficit" in topics(run(patient(_bound(grade(3, 1), ">="))))


@pytest.mark.parametrize(("earlier", "latest"), [
    ((4, ">"), (5, "<")), ((3, ">"), (4, "<")), ((4, ">"), (4, ">=")), ((4, ">"), (3, ">"))])
def test_an_earlier_lower_bound_is_strength_to_fall_from(earlier: tuple[int, str],
                                                         latest: tuple[int, str]) -> None:
    """">4" then "<5" is a fall as 5 then 4 is (second review: the earlier bound was read
    as its raw number and no fall was seen)."""
    record = patient(_bound(grade(earlier[0], 20), earlier[1]),
                     _bound(grade(latest[0], 1), latest[1]))
    assert falling_grades(record)
    assert topics(run(record)).get("progressive-neurological-deficit") == "critical"


def test_falling_grades_respect_the_bounds() -> None:
    record = patient(grade(5, 20), _bound(grade(5, 1), "<"))  # 5, then "<5": fallen
    assert falling_grades(record)
    record = patient(grade(4, 20), _bound(grade(3, 1), ">"))  # 4, then ">3": may be 4
    assert not falling_grades(record)
    record = patient(_bound(grade(4, 20), "<"), grade(3, 1))  # "<4" then 3: may be 3
    assert not falling_grades(record)
    record = patient(_bound(grade(3, 20), ">"), grade(3, 1))  # ">3" then 3: fallen
    assert falling_grades(record)


def _weights(*pairs: tuple[float, str | None, float]) -> list[Fact]:
    return [replace(obs("body_weight", kg, days, unit="kg"), comparator=c) for kg, c, days in pairs]


def test_weight_loss_must_be_shown() -> None:
    shown = patient(*_weights((80, None, 90), (74, "<", 1)))  # latest under 74: at least 7.5 %
    assert weight_loss(shown, DEFAULT_SETTINGS)[0]
    not_shown = patient(*_weights((80, None, 90), (74, ">", 1)))  # latest over 74: unknown
    assert weight_loss(not_shown, DEFAULT_SETTINGS) == ([], None)
    not_heaviest = patient(*_weights((80, "<", 90), (74, None, 1)))  # earlier under 80
    assert weight_loss(not_heaviest, DEFAULT_SETTINGS) == ([], None)


def test_severe_pain_bound() -> None:
    aneurysm = fact("aortic_aneurysm", 400)
    old_pain = 200
    severe = obs("pain_severity", 8, unit="{score}")
    assert "visceral-or-vascular" in topics(run(patient(aneurysm, severe,
                                                        back_pain_days=old_pain)))
    assert "visceral-or-vascular" in topics(run(patient(aneurysm, _bound(severe, ">"),
                                                        back_pain_days=old_pain)))
    assert "visceral-or-vascular" not in topics(run(patient(aneurysm, _bound(severe, "<"),
                                                            back_pain_days=old_pain)))
