"""A time sent without a zone is a wall time somewhere on Earth, not UTC.

FHIR requires a zone on a dateTime with a time; real feeds send "2026-11-23T07:30:00"
anyway. Read as UTC, urinary retention charted in Sydney (UTC+11) at 22:30 local, half an
hour before the call at 12:00 UTC (23:00 in Sydney), was dated 10.5 hours after the
service's clock: no rule counted it and the critical cauda equina card became "Check the
date". Such a time may be anywhere from 14 hours before to 12 hours after its wall time
read as UTC (UTC+14 to UTC-12), and the record reads it as that span, as it reads a date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.fhir_time import latest_instant, parse_datetime
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

PID = "zoneless-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 23:00 in Sydney, 02:00 in Honolulu
PATIENT = {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
           "gender": "female"}
BACK_PAIN = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-11-18T09:00:00Z"}


def _retention(when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "retention", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": when,
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}


def _cards(*resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(PATIENT, BACK_PAIN, *resources))
    return {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}


@pytest.mark.parametrize("sent", ["2026-11-22T22:30:00", "2026-11-22 22:30", "2026-11-22T22:30"])
def test_retention_charted_in_sydney_without_a_zone_is_a_cauda_equina_emergency(
        sent: str) -> None:
    cards = _cards(_retention(sent))
    assert cards["cauda-equina"]["indicator"] == "critical"
    assert "conservative-care" not in cards


def test_the_same_time_with_its_zone_is_exact() -> None:
    cards = _cards(_retention("2026-11-22T22:30:00+11:00"))
    assert cards["cauda-equina"]["indicator"] == "critical"


def test_a_zoneless_time_a_day_after_the_call_is_still_named_as_dated_ahead() -> None:
    """Beyond what any zone explains (UTC+14 and the clock tolerance), the date is wrong."""
    cards = _cards(_retention("2026-11-23T03:00:00"))  # 13:00 UTC at the earliest
    assert set(cards) == {"conservative-care"}
    assert cards["conservative-care"]["summary"].startswith("Check the date of")


def test_a_zoneless_time_spans_the_zones_and_a_zoned_one_does_not() -> None:
    assert parse_datetime("2026-11-22T22:30:00") == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert latest_instant("2026-11-22T22:30:00") == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert latest_instant("2026-11-22T22:30:00Z") == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert latest_instant("2026-11-22T22:30:00+11:00") == datetime(2026, 11, 22, 11, 30,
                                                                   tzinfo=UTC)


def test_the_record_keeps_the_span_and_counts_the_entry_as_valid() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(PATIENT, BACK_PAIN, _retention("2026-11-22T22:30:00")))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    (fact,) = [f for f in record.facts if f.concept == "urinary_retention"]
    assert fact.when == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert fact.when_latest == fact.when + timedelta(hours=12)
    assert record.red_flags_dated_ahead() == []
    assert record.quality.skipped_invalid == 0
