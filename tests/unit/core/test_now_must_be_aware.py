""""now" is the caller's: a value that is not a timezone-aware datetime is a bug in the
caller and fails loudly, instead of silently becoming the epoch (which made every
patient's age unknown-or-negative and so gave no cards at all)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

REQUEST = HookRequest(hook="patient-view", patient_id="p1", resources=(
    {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"},
    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
     "onsetDateTime": "2026-11-20"},
))


@pytest.mark.parametrize("now", [None, "2026-11-22T12:00:00Z", 1_795_000_000, 0.0])
def test_a_now_that_is_not_a_datetime_is_a_type_error(now: Any) -> None:
    with pytest.raises(TypeError):
        build_record(REQUEST, now, DEFAULT_SETTINGS)
    with pytest.raises(TypeError):
        evaluate(REQUEST, now)


def test_a_naive_now_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        evaluate(REQUEST, datetime(2026, 11, 22, 12, 0))  # naive: the bug under test


def test_an_aware_now_is_used() -> None:
    record = build_record(REQUEST, datetime(2026, 11, 22, 12, 0, tzinfo=UTC), DEFAULT_SETTINGS)
    assert record.now == datetime(2026, 11, 22, 12, 0, tzinfo=UTC) and record.age == 46
    cards = to_json(evaluate(REQUEST, datetime(2026, 11, 22, 12, 0, tzinfo=UTC)).cards)
    assert [c["source"]["topic"]["code"] for c in cards] == ["conservative-care"]
