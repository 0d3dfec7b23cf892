"""Sentinel dates never cost the clinician the cards.

EHRs and interface engines write "no date" as the ends of the calendar: .NET's
DateTime.MinValue "0001-01-01T00:00:00", "0001-01-01", "9999-12-31". Shifting such a date
by the 14 hours a date-only value may start early overflowed (``model.earliest_start``):
``evaluate`` raised, and the hook answered without the critical cauda equina card another
entry gave (independent review, December 2026). Every time the record reads, at either end
of the calendar, now leaves the other entries' cards as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate

PID = "sentinel-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SENTINELS = ["0001", "0001-01", "0001-01-01", "0001-01-01T00:00:00", "0001-01-01T00:00:00Z",
             "0001-01-01T00:00:00+14:00", "9999", "9999-12", "9999-12-31",
             "9999-12-31T23:59:59", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00"]


def _entries(when: str) -> list[dict[str, Any]]:
    """A cancer history, a resolved retention, a spine MRI, an ESR and physiotherapy, dated
    ``when``."""
    return [
        {"resourceType": "Condition", "id": "ca", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "363346000"}]},
         "onsetDateTime": when, "recordedDate": when},
        {"resourceType": "Condition", "id": "ret-old", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "267064002"}]},
         "onsetDateTime": when, "abatementDateTime": when},
        {"resourceType": "Observation", "id": "esr", "status": "final", "subject": SUBJECT,
         "code": {"coding": [{"system": "http://loinc.org", "code": "4537-7"}]},
         "effectivePeriod": {"start": when, "end": when},
         "valueQuantity": {"value": 80, "unit": "mm/h", "system": "http://unitsofmeasure.org",
                           "code": "mm/h"}},
        {"resourceType": "ServiceRequest", "id": "mri", "status": "completed",
         "intent": "order", "subject": SUBJECT, "occurrenceDateTime": when,
         "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}]}},
        {"resourceType": "Procedure", "id": "physio", "status": "completed", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "91251008"}]}, "performedDateTime": when},
    ]


@pytest.mark.parametrize("when", SENTINELS)
def test_a_sentinel_date_leaves_the_emergency_card(when: str) -> None:
    resources = (
        {"resourceType": "Patient", "id": PID, "birthDate": "1960-05-01"},
        {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
         "onsetDateTime": "2026-11-18T09:00:00Z"},
        {"resourceType": "Observation", "id": "retention", "status": "final",
         "subject": SUBJECT, "effectiveDateTime": "2026-11-22T10:00:00Z",
         "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}},
        *_entries(when),
    )
    for hook in ("patient-view", "order-select"):
        request = HookRequest(hook=hook, patient_id=PID, resources=resources)
        cards = {c["source"]["topic"]["code"]: c["indicator"]
                 for c in to_json(evaluate(request, NOW).cards)}
        assert cards.get("cauda-equina") == "critical", (hook, cards)


def test_a_date_check_that_fails_is_named_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    """build_record never raises: should the dated-ahead check meet a date no arithmetic
    takes (as '0001-01-01' once did), the record is built and the cards say so. (The fault
    is injected: the real one is mended above.)"""
    from cds_rules.model import PatientRecord

    def overflow(self: PatientRecord) -> list[Any]:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(PatientRecord, "red_flags_dated_ahead", overflow)
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        {"resourceType": "Patient", "id": PID, "birthDate": "1960-05-01"},
        {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
         "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
         "onsetDateTime": "2026-11-18T09:00:00Z"},
        {"resourceType": "Observation", "id": "retention", "status": "final",
         "subject": SUBJECT, "effectiveDateTime": "2026-11-22T10:00:00Z",
         "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}))
    result = evaluate(request, NOW)
    assert any("could not be compared" in gap for gap in result.quality.data_gaps)
    assert [(c.topic, c.indicator) for c in result.cards] == [("cauda-equina", "critical")]
