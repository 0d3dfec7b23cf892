"""The record builder skips readings that no rule can use, before validating them.

Body temperatures older than the fever window and body weights older than the weight-loss
window (both from RuleSettings) are never read by any rule; every other Observation keeps
all its dates (pain scores and MRC grades are read as whole series).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cds_rules.engine import HookRequest
from cds_rules.model import PatientRecord
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings
from cds_rules.valuesets import LOINC, UCUM

PID = "p1"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TEMPERATURE, WEIGHT, PAIN = "8310-5", "29463-7", "72514-3"
UNITS = {TEMPERATURE: "Cel", WEIGHT: "kg", PAIN: "{score}"}


def reading(code: str, value: float, when: str, rid: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "subject": {"reference": f"Patient/{PID}"},
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "system": UCUM, "code": UNITS[code]}, **extra}


def days_ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def record_of(*resources: dict[str, Any],
              settings: RuleSettings = DEFAULT_SETTINGS) -> PatientRecord:
    patient = {"resourceType": "Patient", "id": PID, "birthDate": "1960-01-01",
               "gender": "male"}
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(patient, *resources))
    return build_record(request, NOW, settings)


def sources(record: PatientRecord, concept: str) -> list[str]:
    return sorted(f.source for f in record.facts if f.concept == concept)


def test_temperatures_count_within_the_fever_window_only() -> None:
    window = DEFAULT_SETTINGS.fever_window_days
    record = record_of(reading(TEMPERATURE, 39.0, days_ago(window - 1), "recent"),
                       reading(TEMPERATURE, 39.5, days_ago(window + 30), "old"))
    assert sources(record, "body_temperature") == ["Observation/recent"]


def test_the_window_comes_from_the_settings() -> None:
    old = reading(TEMPERATURE, 39.5, days_ago(30), "old")
    assert sources(record_of(old), "body_temperature") == []
    longer = RuleSettings(fever_window_days=60)
    assert sources(record_of(old, settings=longer), "body_temperature") == ["Observation/old"]


def test_weights_count_within_the_weight_loss_window_only() -> None:
    window = DEFAULT_SETTINGS.weight_loss_window_days
    record = record_of(reading(WEIGHT, 80.0, days_ago(window - 10), "w1"),
                       reading(WEIGHT, 70.0, days_ago(5), "w2"),
                       reading(WEIGHT, 95.0, days_ago(window + 60), "w0"))
    assert sources(record, "body_weight") == ["Observation/w1", "Observation/w2"]


def test_a_partial_date_counts_when_its_period_reaches_into_the_window() -> None:
    """"2026-06" may mean 14 June: inside a 7-day window from 15 June."""
    record = record_of(reading(TEMPERATURE, 39.0, "2026-06", "month-only"),
                       reading(TEMPERATURE, 39.0, "2026-05", "last-month"))
    assert sources(record, "body_temperature") == ["Observation/month-only"]


def test_series_read_whole_keep_every_date() -> None:
    """Pain scores (pain not improving since the first score) keep all their dates."""
    record = record_of(reading(PAIN, 6.0, days_ago(3000), "first"),
                       reading(PAIN, 7.0, days_ago(2), "latest"))
    assert sources(record, "pain_severity") == ["Observation/first", "Observation/latest"]


def test_an_old_reading_that_also_carries_another_concept_is_kept() -> None:
    """A panel: an old temperature with a pain-score component is still read (the pain
    component has no window), temperature included."""
    panel = reading(TEMPERATURE, 39.0, days_ago(400), "panel", component=[
        {"code": {"coding": [{"system": LOINC, "code": PAIN}]},
         "valueQuantity": {"value": 5, "system": UCUM, "code": "{score}"}}])
    record = record_of(panel)
    assert sources(record, "pain_severity") == ["Observation/panel"]
    assert sources(record, "body_temperature") == ["Observation/panel"]


def test_undated_readings_and_unreadable_times_are_not_skipped() -> None:
    undated = reading(TEMPERATURE, 39.0, "", "undated")
    del undated["effectiveDateTime"]
    garbled = reading(TEMPERATURE, 39.0, "last tuesday", "garbled")
    record = record_of(undated, garbled)
    assert record.quality.skipped_invalid == 1  # the garbled time fails validation
    assert sources(record, "body_temperature") == ["Observation/undated"]
