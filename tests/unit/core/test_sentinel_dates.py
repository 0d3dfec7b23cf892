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
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

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


@pytest.mark.parametrize("when", SENTINELS)
def test_every_entry_at_a_calendars_end_is_read(when: str) -> None:
    """A zone offset that carries a sentinel past the calendar's end
    ("0001-01-01T00:00:00+14:00") made the date parser overflow, and the reader of each
    entry so dated raised: the cancer history was lost. Such a time is read as the
    calendar's end, so every sentinel's entries are read as the zone-less ones are."""
    resources = ({"resourceType": "Patient", "id": PID, "birthDate": "1960-05-01"},
                 *_entries(when))
    record = build_record(HookRequest(hook="patient-view", patient_id=PID,
                                      resources=resources), NOW, DEFAULT_SETTINGS)
    assert (record.quality.skipped_invalid, record.quality.reader_faults) == (0, 0)
    assert {"cancer", "esr", "urinary_retention"} <= {f.concept for f in record.facts}
    assert len(record.orders) == 1


@pytest.mark.parametrize(("offset", "plain"), [
    ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"),
    ("9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59Z")])
def test_an_offset_past_the_calendars_end_gives_the_plain_sentinels_cards(
        offset: str, plain: str) -> None:
    def cards(when: str) -> list[tuple[str, str, str]]:
        request = HookRequest(hook="patient-view", patient_id=PID, resources=(
            {"resourceType": "Patient", "id": PID, "birthDate": "1960-05-01"},
            {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-11-18T09:00:00Z"}, *_entries(when)))
        return [(c.topic, c.indicator, c.summary) for c in evaluate(request, NOW).cards]
    assert ("malignancy", "warning") in [card[:2] for card in cards(offset)]
    assert cards(offset) == cards(plain)


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
