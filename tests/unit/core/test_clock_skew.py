"""An entry dated a few minutes after the service's clock is today's, not a future one.

The EHR's clock may run ahead of ours: a urinary retention charted "5 minutes from now" is
a cauda equina emergency, not an entry to ignore (before: "No red flag recorded"). Up to
``BACKPAIN_CDS_CLOCK_SKEW_MINUTES`` (default 15) an entry counts as now, and a card that
relies on that says so; a red flag dated later (a wrong year, a clock far ahead) is named
on every card as not counted, so no card reassures over it silently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS, RuleSettings

PID = "skew-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PATIENT = {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
           "gender": "female"}
BACK_PAIN = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-11-18T09:00:00Z"}
SKEW_LINE = "`BACKPAIN_CDS_CLOCK_SKEW_MINUTES` = 15"


def _at(offset: timedelta) -> str:
    return (NOW + offset).isoformat().replace("+00:00", "Z")


def _retention(offset: timedelta) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "retention", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": _at(offset),
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}


def _evaluate(*resources: dict[str, Any], settings: RuleSettings = DEFAULT_SETTINGS,
              hook: str = "patient-view", drafts: tuple[dict[str, Any], ...] = ()
              ) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook=hook, patient_id=PID, resources=(PATIENT, *resources),
                          draft_orders=drafts)
    return {c["source"]["topic"]["code"]: c
            for c in to_json(evaluate(request, NOW, settings).cards)}


@pytest.mark.parametrize("minutes", [1, 5, 15])
def test_retention_dated_minutes_after_now_is_a_cauda_equina_emergency(minutes: int) -> None:
    cards = _evaluate(BACK_PAIN, _retention(timedelta(minutes=minutes)))
    assert cards["cauda-equina"]["indicator"] == "critical"
    assert "conservative-care" not in cards
    assert SKEW_LINE in cards["cauda-equina"]["detail"]


def test_a_card_dated_before_now_does_not_cite_the_clock_tolerance() -> None:
    cards = _evaluate(BACK_PAIN, _retention(-timedelta(hours=1)))
    assert cards["cauda-equina"]["indicator"] == "critical"
    assert "CLOCK_SKEW" not in cards["cauda-equina"]["detail"]


def test_a_red_flag_dated_beyond_the_tolerance_is_named_on_every_card() -> None:
    cards = _evaluate(BACK_PAIN, _retention(timedelta(days=365)))
    assert set(cards) == {"conservative-care"}
    # CONS-01 2.4.0: the card leads with the date to check, never "No red flag recorded"
    assert cards["conservative-care"]["summary"].startswith(
        "Check the date of Urinary retention")
    assert "No red flag recorded" not in cards["conservative-care"]["summary"]
    detail = cards["conservative-care"]["detail"]
    assert "**Could not read:** 1 red-flag entry (" in detail
    assert "urinary retention" in detail.lower()
    assert "more than 15 minutes after the service's clock" in detail
    assert "check the date" in detail


def test_the_card_over_a_red_flag_dated_ahead_never_advises_reassurance() -> None:
    # CONS-01 2.10.0: its own advice (before: the rule's "Reassure; advise staying active")
    detail = _evaluate(BACK_PAIN, _retention(timedelta(days=365)))["conservative-care"]["detail"]
    advice = detail.split("**What to do**", 1)[1]
    assert "Reassure" not in advice
    assert "Check the date of each red-flag entry dated after today in the chart" in advice
    assert "its pathway applies now" in advice and "either way, correct the date" in advice
    assert "Safety-net for cauda equina syndrome" in advice
    assert "Urgent review also for fever, unexplained weight loss" in advice
    # the plain card (no red flag anywhere) still reassures
    plain = _evaluate(BACK_PAIN)["conservative-care"]["detail"]
    assert "Reassure; advise staying active" in plain.split("**What to do**", 1)[1]


NIGHT_PAIN = {"resourceType": "Observation", "id": "night", "status": "final",
              "subject": SUBJECT, "effectiveDateTime": _at(-timedelta(days=2)),
              "code": {"coding": [{"system": "https://backpain-cds.org/fhir/CodeSystem/"
                                             "local-finding", "code": "night-pain",
                                   "display": "Back pain at night or at rest"}]}}


def test_the_date_card_also_names_the_weak_red_flags_of_the_window() -> None:
    # CONS-01 2.10.0: night pain two days ago fires no rule alone; before, the card over a
    # retention dated a year ahead did not name it at all (independent review)
    card = _evaluate(BACK_PAIN, NIGHT_PAIN, _retention(timedelta(days=365)))["conservative-care"]
    assert card["summary"].startswith("Check the date of Urinary retention")
    detail = card["detail"]
    assert "Back pain at night or at rest" in detail
    assert "1 other red-flag fact(s) recorded in the last 14 days fired no rule on their own: " \
           "re-assess them too." in detail
    assert "`BACKPAIN_CDS_CAUDA_EQUINA_WINDOW_DAYS` = 14" in detail


def _measured(resource_id: str, loinc: str, value: float, unit: str,
              offset: timedelta) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": resource_id, "status": "final",
            "subject": SUBJECT, "effectiveDateTime": _at(offset),
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "valueQuantity": {"value": value, "unit": unit,
                              "system": "http://unitsofmeasure.org", "code": unit}}


def test_the_date_card_also_names_a_measured_fever_in_its_window() -> None:
    # CONS-01 2.15.0: a temperature of 38.6 °C yesterday met no rule without a risk factor
    # for infection; before, the card over a retention dated a year ahead did not name it
    fever = _measured("temp", "8310-5", 38.6, "Cel", -timedelta(days=1))
    card = _evaluate(BACK_PAIN, fever, _retention(timedelta(days=365)))["conservative-care"]
    assert card["summary"].startswith("Check the date of Urinary retention")
    detail = card["detail"]
    assert "38.6 Cel — 2026-11-21 — `Observation/temp`" in detail
    assert "A fever (coded, or a temperature at or above 38.0 °C) met no rule" in detail
    assert "`BACKPAIN_CDS_FEVER_WINDOW_DAYS` = 7" in detail


def test_the_date_card_also_names_falling_weights() -> None:
    # CONS-01 2.15.0: 82 to 76 kg in four months at 46 met no rule (MAL-01 needs two)
    weights = (_measured("w1", "29463-7", 82, "kg", -timedelta(days=120)),
               _measured("w2", "29463-7", 76, "kg", -timedelta(days=2)))
    card = _evaluate(BACK_PAIN, *weights, _retention(timedelta(days=365)))["conservative-care"]
    assert card["summary"].startswith("Check the date of Urinary retention")
    assert "A weight loss (coded, or weights falling by 5 % or more in the last 182 days)" \
        in card["detail"]
    assert "`Observation/w2`" in card["detail"]


def test_the_tolerance_is_a_site_setting() -> None:
    strict = RuleSettings(clock_skew_minutes=0)
    cards = _evaluate(BACK_PAIN, _retention(timedelta(minutes=5)), settings=strict)
    assert "cauda-equina" not in cards
    assert "more than 0 minutes after the service's clock" in cards["conservative-care"]["detail"]
    wide = RuleSettings(clock_skew_minutes=120)
    cards = _evaluate(BACK_PAIN, _retention(timedelta(minutes=90)), settings=wide)
    assert cards["cauda-equina"]["indicator"] == "critical"
    assert "`BACKPAIN_CDS_CLOCK_SKEW_MINUTES` = 120" in cards["cauda-equina"]["detail"]


def test_the_tolerance_stays_in_its_documented_range() -> None:
    assert RuleSettings(clock_skew_minutes=0).clock_skew_minutes == 0
    assert RuleSettings(clock_skew_minutes=1440).clock_skew_minutes == 1440
    for minutes in (-1, 1441):
        with pytest.raises(ValidationError):
            RuleSettings(clock_skew_minutes=minutes)


def test_a_diagnosis_recorded_minutes_after_now_is_new() -> None:
    ces = {"resourceType": "Condition", "id": "ces", "subject": SUBJECT,
           "code": {"coding": [{"system": SNOMED, "code": "192970008"}]},
           "onsetDateTime": "2025-01-10", "recordedDate": _at(timedelta(minutes=10))}
    cards = _evaluate(BACK_PAIN, ces)
    assert cards["cauda-equina"]["indicator"] == "critical"


def test_a_spine_mri_done_minutes_after_now_makes_a_draft_one_a_repeat() -> None:
    chronic = {**BACK_PAIN, "onsetDateTime": "2025-08-03"}
    study = {"resourceType": "ImagingStudy", "id": "img", "status": "available",
             "subject": SUBJECT, "started": _at(timedelta(minutes=5)),
             "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                           "code": "MR"}],
             "description": "MRI L-spine"}
    draft = {"resourceType": "ServiceRequest", "id": "draft", "status": "draft",
             "intent": "order", "subject": SUBJECT, "authoredOn": "2026-11-22",
             "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}]}}
    cards = _evaluate(chronic, study, hook="order-sign", drafts=(draft,))
    assert "repeat-imaging" in cards


def test_the_record_keeps_future_facts_and_says_which_are_beyond_the_tolerance() -> None:
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(PATIENT, BACK_PAIN, _retention(timedelta(days=2))))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    assert record.horizon == NOW + timedelta(minutes=15)
    assert [f.concept for f in record.facts if f.concept == "urinary_retention"]
    assert len(record.quality.data_gaps) == 1
    near = HookRequest(hook="patient-view", patient_id=PID,
                       resources=(PATIENT, BACK_PAIN, _retention(timedelta(minutes=14))))
    assert build_record(near, NOW, DEFAULT_SETTINGS).quality.data_gaps == []


def _retention_on(day: str) -> dict[str, Any]:
    return {**_retention(timedelta(0)), "effectiveDateTime": day}


def test_a_date_charted_today_east_of_utc_is_today() -> None:
    """Independent review, December 2026: at 20:00 UTC it is already the next morning in
    Sydney; a retention dated that day (no time) was 'tomorrow' read as UTC and no rule
    counted it. A date's day begins up to 14 hours before UTC midnight (UTC+14)."""
    evening = NOW.replace(hour=20)
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(PATIENT, BACK_PAIN, _retention_on("2026-11-23")))
    cards = {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, evening).cards)}
    assert cards["cauda-equina"]["indicator"] == "critical"
    later = HookRequest(hook="patient-view", patient_id=PID,
                        resources=(PATIENT, BACK_PAIN, _retention_on("2026-11-24")))
    record = build_record(later, evening, DEFAULT_SETTINGS)
    assert "dated more than 15 minutes after the service's clock" in record.quality.data_gaps[0]
