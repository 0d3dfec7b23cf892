"""Partial dates keep their precision (CLINICAL.md safety principles 1 and 5).

"2026-11" means "some time in November 2026", not "1 November". A cauda equina sign so
dated, seen on 22 November, may be a few days old: it cannot be excluded as new. An
"older than" judgement (imaging-indicated: radicular pain for 6 weeks or more) holds
only when even the latest possible date is old enough.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.fhir_time import first_time_span, latest_instant
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

PID = "partial-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOCAL = "https://backpain-cds.org/fhir/CodeSystem/local-finding"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026", datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-02", datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2028-02", datetime(2028, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-12", datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-03-05", datetime(2026, 3, 5, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-03-05T10:20:30Z", datetime(2026, 3, 5, 10, 20, 30, tzinfo=UTC)),
    ("2026-03-05T10:20:30+02:00", datetime(2026, 3, 5, 8, 20, 30, tzinfo=UTC)),
    ("9999-12", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-13", None),
    ("soon", None),
    (None, None),
])
def test_latest_instant_is_the_end_of_the_stated_period(text: Any, expected: Any) -> None:
    assert latest_instant(text) == expected


def test_first_time_span_keeps_both_ends_of_the_field_it_read() -> None:
    resource = {"effectivePeriod": {"start": "2026-02"}, "issued": "2026-03-09T10:00:00Z"}
    assert first_time_span(resource, "effectiveDateTime", "effectivePeriod", "issued") == (
        datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC))
    assert first_time_span({}, "effectiveDateTime") == (None, None)


def _patient() -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
            "gender": "male"}


def _condition(code: str, rid: str, onset: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": code}]}, "onsetDateTime": onset}


def _retention(effective: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "retention", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": effective,
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]},
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "52101004"}]}}


def _cards(*resources: dict[str, Any], now: datetime = NOW) -> dict[str, str]:
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(_patient(), *resources))
    cards = to_json(evaluate(request, now).cards)
    return {c["source"]["topic"]["code"]: c["indicator"] for c in cards}


@pytest.mark.parametrize("effective", ["2026-11", "2026"])
def test_partially_dated_ces_sign_that_may_be_new_is_critical(effective: str) -> None:
    back_pain = _condition("279039007", "lbp", "2026-11-18T09:00:00Z")
    assert _cards(back_pain, _retention(effective)) == {"cauda-equina": "critical"}


def test_a_partial_date_wholly_before_the_window_is_not_new() -> None:
    back_pain = _condition("279039007", "lbp", "2026-11-18T09:00:00Z")
    assert _cards(back_pain, _retention("2026-10")) == {"conservative-care": "info"}


def test_the_record_keeps_the_end_of_a_partial_date() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(_retention("2026-11"),
                                     _condition("279039007", "lbp", "2026")))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    by_concept = {f.concept: f for f in record.facts}
    sign, pain = by_concept["urinary_retention"], by_concept["low_back_pain"]
    assert sign.when == datetime(2026, 11, 1, tzinfo=UTC)
    assert sign.latest == datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert pain.latest == datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_imaging_indicated_needs_six_weeks_even_at_the_latest_possible_onset() -> None:
    """Radiculopathy dated "2026-10" on 22 November: 52 days from 1 October, but only 22
    from 31 October, so "6 weeks of symptoms" is not established (imaging-indicated is
    an "older than" judgement: the conservative end is the latest)."""
    care = {"resourceType": "Procedure", "id": "physio", "status": "completed",
            "subject": SUBJECT, "performedDateTime": "2026-11-10",
            "code": {"coding": [{"system": LOCAL, "code": "physiotherapy"}]}}
    uncertain = _cards(_condition("128196005", "radic", "2026-10"), care)
    assert "imaging-indicated" not in uncertain
    certain = _cards(_condition("128196005", "radic", "2026-09"), care)
    assert certain.get("imaging-indicated") == "info"
