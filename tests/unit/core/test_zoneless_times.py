"""A time sent without a zone may be a wall time east of UTC: never "after now" for that.

FHIR requires a zone on a dateTime with a time; real feeds send "2026-11-22T22:30:00"
anyway, and it is read as UTC. Charted in Sydney (UTC+11) at 22:30, half an hour before a
call at 12:00 UTC, urinary retention was 10.5 hours "after now"; charted in Berlin (UTC+1)
at 12:30, 30 minutes "after now", beyond the clock tolerance: no rule counted it, and the
critical cauda equina card became the conservative card's "Check the date". Such a time now
counts from up to 14 hours earlier (UTC+14), as a date without a time does; how late it
may be stays as read, because a first version that also let it be 12 hours later (UTC-12)
stood cards down (independent review, December 2026: a sciatica onset 42 days ago became
under 6 weeks, a result 7 days 6 hours old became recent; tests below).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.fhir_time import floating
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

PID = "zoneless-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 23:00 in Sydney, 13:00 in Berlin
PATIENT = {"resourceType": "Patient", "id": PID, "birthDate": "1976-05-01",
           "gender": "female"}
BACK_PAIN = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-11-18T09:00:00Z"}


def _wall(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _retention(when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "retention", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": when,
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}


def _cards(*resources: dict[str, Any], hook: str = "patient-view",
           drafts: tuple[dict[str, Any], ...] = ()) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook=hook, patient_id=PID, resources=(PATIENT, *resources),
                          draft_orders=drafts)
    return {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}


@pytest.mark.parametrize("sent", ["2026-11-22T22:30:00", "2026-11-22 22:30", "2026-11-22T22:30",
                                  "2026-11-22T12:30:00"],
                         ids=["sydney", "sydney-space", "sydney-no-seconds", "berlin"])
def test_retention_charted_east_of_utc_without_a_zone_is_a_cauda_equina_emergency(
        sent: str) -> None:
    cards = _cards(BACK_PAIN, _retention(sent))
    assert cards["cauda-equina"]["indicator"] == "critical"
    assert "conservative-care" not in cards
    assert "CLOCK_SKEW" not in cards["cauda-equina"]["detail"]  # not the tolerance's doing


def test_a_zoneless_time_later_than_any_zone_explains_is_still_named_as_dated_ahead() -> None:
    cards = _cards(BACK_PAIN, _retention("2026-11-23T03:00:00"))  # 13:00 UTC at the earliest
    assert set(cards) == {"conservative-care"}
    assert cards["conservative-care"]["summary"].startswith("Check the date of")


def test_a_time_with_its_zone_is_exact() -> None:
    assert _cards(BACK_PAIN, _retention("2026-11-22T22:30:00+11:00"))[
        "cauda-equina"]["indicator"] == "critical"
    cards = _cards(BACK_PAIN, _retention("2026-11-22T22:30:00Z"))  # really 10.5 h ahead
    assert cards["conservative-care"]["summary"].startswith("Check the date of")


def test_floating_means_a_time_without_a_zone() -> None:
    assert floating("2026-11-22T22:30:00") and floating("2026-11-22 22:30")
    assert not floating("2026-11-22T22:30:00Z") and not floating("2026-11-22T22:30:00+11:00")
    assert not floating("2026-11-22") and not floating(None) and not floating("junk")


def test_the_record_reads_the_time_as_sent_and_counts_the_entry_as_valid() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(PATIENT, BACK_PAIN, _retention("2026-11-22T22:30:00")))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    (fact,) = [f for f in record.facts if f.concept == "urinary_retention"]
    assert fact.floating and fact.when == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert fact.latest == fact.when  # how late it may be: as read
    assert record.red_flags_dated_ahead() == []
    assert record.quality.skipped_invalid == 0


# The review's cases: a zone-less time never makes a duration shorter or a result more recent.
SIX_WEEKS_AND_6H = _wall(NOW - timedelta(days=42, hours=6))


def _condition(rid: str, code: str, onset: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": code}]}, "onsetDateTime": onset}


def test_a_zoneless_sciatica_onset_past_6_weeks_keeps_the_mri_indicated() -> None:
    physio = {"resourceType": "Procedure", "id": "physio", "status": "completed",
              "subject": SUBJECT, "performedDateTime": "2026-01-26T09:00:00Z",
              "code": {"coding": [{"system": "https://backpain-cds.org/fhir/CodeSystem/"
                                             "local-finding", "code": "physiotherapy"}]}}
    draft = {"resourceType": "ServiceRequest", "id": "draft-mri", "status": "draft",
             "intent": "order", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}]}}
    cards = _cards(_condition("sciatica", "23056005", SIX_WEEKS_AND_6H), physio,
                   hook="order-select", drafts=(draft,))
    assert "imaging-indicated" in cards and "imaging-not-indicated" not in cards


def test_a_zoneless_back_pain_onset_past_6_weeks_at_62_keeps_the_ng12_bloods() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        {**PATIENT, "birthDate": "1964-05-01"},
        _condition("lbp", "279039007", SIX_WEEKS_AND_6H)))
    cards = {c["source"]["topic"]["code"] for c in to_json(evaluate(request, NOW).cards)}
    assert "malignancy" in cards and "conservative-care" not in cards


def test_a_zoneless_result_just_past_the_reuse_window_is_suggested_again() -> None:
    lab = {"resourceType": "Observation", "id": "esr", "status": "final", "subject": SUBJECT,
           "effectiveDateTime": _wall(NOW - timedelta(days=7, hours=6)),
           "code": {"coding": [{"system": LOINC, "code": "4537-7"}]},
           "valueQuantity": {"value": 10, "unit": "mm/h",
                             "system": "http://unitsofmeasure.org", "code": "mm/h"}}
    cards = _cards(_condition("lbp", "279039007", "2026-09-23T09:00:00Z"),
                   _condition("ca", "363346000", "2020-01-01"), lab)
    labels = [s["label"] for s in cards["malignancy"]["suggestions"]]
    assert "Erythrocyte sedimentation rate (ESR)" in labels


def _weight(rid: str, when: str, kg: float) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "subject": SUBJECT,
            "effectiveDateTime": when, "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
            "valueQuantity": {"value": kg, "unit": "kg", "system": "http://unitsofmeasure.org",
                              "code": "kg"}}


@pytest.mark.parametrize("sent", ["2026-11-22T20:00:00", "2026-11-22T12:30:00"])
def test_a_zoneless_weight_of_uncertain_order_does_not_hide_a_weight_loss(sent: str) -> None:
    """80 kg 90 days ago, 74 kg at 11:00 UTC (-7.5 %), and 76.5 kg sent zone-less: in
    Sydney it was weighed before the 74 kg, so it may not be the latest (second review of
    the zone-less change: the MAL-01 weak-factor card became 'No red flag recorded')."""
    request = HookRequest(hook="patient-view", patient_id=PID, resources=(
        {**PATIENT, "birthDate": "1966-01-01"},
        _condition("lbp", "279039007", "2026-11-02T09:00:00Z"),
        _weight("w1", "2026-08-24T09:00:00Z", 80.0), _weight("w2", "2026-11-22T11:00:00Z", 74.0),
        _weight("w3", sent, 76.5)))
    cards = {c["source"]["topic"]["code"] for c in to_json(evaluate(request, NOW).cards)}
    assert "malignancy" in cards and "conservative-care" not in cards
