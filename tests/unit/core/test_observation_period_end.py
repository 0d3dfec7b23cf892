"""An Observation over a period counts until its end (CHANGELOG 2026-12, record).

Before, an Observation with ``effectivePeriod`` was dated by its start only: a temperature
of 39 °C over a monitoring period from 20 days ago to 6 days ago (its maximum) was 20 days
old, outside the 7-day fever window, and the record builder dropped it as too old. Beside
coded back pain and intravenous drug use, no INF-01 card; without a risk factor, CONS-01's
"No red flag recorded". Here FHIR goes in and cards come out (the real record builder and
rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS
from tests.unit.core.local_entries import LOINC, SNOMED, SUBJECT, UCUM

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
BACK_PAIN = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-11-12"}
IV_DRUG_USE = {"resourceType": "Condition", "id": "ivdu", "subject": SUBJECT,
               "code": {"coding": [{"system": SNOMED, "code": "228388006"}]},
               "onsetDateTime": "2025-01-01"}
INFECTION_SUMMARY = ("Same-day assessment, MRI with contrast, CRP, ESR, blood cultures: "
                     "possible spinal infection")


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _temperature(period: dict[str, str], value: float = 39.0) -> dict[str, Any]:
    """A body temperature (LOINC 8310-5) over ``period``: a monitoring period's maximum."""
    return _observed("temp", {"coding": [{"system": LOINC, "code": "8310-5"}]}, period,
                     {"value": value, "unit": "Cel", "system": UCUM, "code": "Cel"})


def _weight(resource_id: str, kg: float, period: dict[str, str]) -> dict[str, Any]:
    return _observed(resource_id, {"coding": [{"system": LOINC, "code": "29463-7"}]}, period,
                     {"value": kg, "unit": "kg", "system": UCUM, "code": "kg"})


def _observed(resource_id: str, code: dict[str, Any], period: dict[str, str],
              quantity: dict[str, Any] | None = None) -> dict[str, Any]:
    entry = {"resourceType": "Observation", "id": resource_id, "status": "final",
             "subject": SUBJECT, "effectivePeriod": period, "code": code}
    return {**entry, "valueQuantity": quantity} if quantity else entry


def _request(*entries: dict[str, Any], born: str = "1980-05-01") -> HookRequest:
    return HookRequest(hook="patient-view", patient_id="p",
                       resources=({"resourceType": "Patient", "id": "p", "birthDate": born},
                                  BACK_PAIN, *entries))


def _cards(*entries: dict[str, Any], born: str = "1980-05-01") -> dict[str, dict[str, Any]]:
    request = _request(*entries, born=born)
    return {c["source"]["topic"]["code"]: c
            for c in to_json(evaluate(request, NOW, DEFAULT_SETTINGS).cards)}


def _conservative_summary(*entries: dict[str, Any]) -> str:
    return str(_cards(*entries)["conservative-care"]["summary"])


def test_a_fever_over_a_period_ending_in_the_window_gives_the_infection_card() -> None:
    cards = _cards(_temperature({"start": _ago(20), "end": _ago(6)}), IV_DRUG_USE)
    assert cards["infection"]["summary"] == INFECTION_SUMMARY
    assert "39 Cel — 2026-11-02 — `Observation/temp`" in cards["infection"]["detail"]


def test_without_a_risk_factor_the_fever_is_named_not_reassured_over() -> None:
    summary = _conservative_summary(_temperature({"start": _ago(20), "end": _ago(6)}))
    assert summary.startswith("Safety-net and re-assess: fever (39 Cel) recorded")


def test_a_period_that_ended_outside_the_fever_window_is_no_fever() -> None:
    cards = _cards(_temperature({"start": _ago(20), "end": _ago(9)}), IV_DRUG_USE)
    assert "infection" not in cards
    assert "fever" not in cards["conservative-care"]["summary"]


def test_a_period_ending_before_its_start_is_read_by_its_start_only() -> None:
    # malformed (FHIR per-1): the end widens nothing, the start (20 days ago) dates it
    cards = _cards(_temperature({"start": _ago(20), "end": _ago(22)}), IV_DRUG_USE)
    assert "infection" not in cards
    assert "fever" not in cards["conservative-care"]["summary"]
    recent = _temperature({"start": _ago(2), "end": _ago(30)})
    assert _cards(recent, IV_DRUG_USE)["infection"]["summary"] == INFECTION_SUMMARY


def test_a_period_ending_tomorrow_is_a_current_fever_not_one_dated_ahead() -> None:
    period = {"start": _ago(2), "end": _ago(-1)}
    summary = _conservative_summary(_temperature(period))
    assert summary.startswith("Safety-net and re-assess: fever (39 Cel) recorded")
    assert "Check the date" not in summary
    record = build_record(_request(_temperature(period)), NOW, DEFAULT_SETTINGS)
    assert record.red_flags_dated_ahead() == []
    assert not any("after" in gap for gap in record.quality.data_gaps)
    infection = _cards(_temperature(period), IV_DRUG_USE)["infection"]
    assert infection["summary"] == INFECTION_SUMMARY
    assert "CLOCK_SKEW_MINUTES" not in infection["detail"]  # not counted by the tolerance


def test_a_partial_end_means_the_end_of_its_month() -> None:
    # "2026-11": until 30 November, so a fever of 20 days ago may be of this week
    summary = _conservative_summary(_temperature({"start": _ago(20), "end": "2026-11"}))
    assert summary.startswith("Safety-net and re-assess: fever (39 Cel) recorded")


def test_the_period_starting_dates_the_reading_on_the_card() -> None:
    detail = str(_cards(_temperature({"start": "2026-11-02T08:00:00Z", "end": _ago(1)}),
                        IV_DRUG_USE)["infection"]["detail"])
    assert "39 Cel — 2026-11-02 — `Observation/temp`" in detail  # not the end's date


def test_a_period_wholly_after_the_clock_is_dated_ahead_by_its_start() -> None:
    """A period from an exact instant 10 hours after the clock's tolerance, ending in 3
    days: dated ahead by its start (not moved back to its day's start in UTC+14), its end
    not read (an end after the clock says nothing of when the value held)."""
    period = {"start": (NOW + timedelta(hours=10)).isoformat(), "end": _ago(-3)}
    record = build_record(_request(_temperature(period)), NOW, DEFAULT_SETTINGS)
    (fever,) = record.having("body_temperature")
    assert record.having("body_temperature", within=timedelta(days=7)) == []
    assert fever.when == fever.latest == NOW + timedelta(hours=10)


RETENTION = {"coding": [{"system": SNOMED, "code": "267064002"}]}


@pytest.mark.parametrize("end", ["9999-12-31", "9999-12-31T23:59:59-14:00", "2027-03"])
def test_an_end_after_the_clock_is_not_read(end: str) -> None:
    """The review of reading periods to their end: a retention over a period from 2024 "to
    9999" (a "no end" sentinel) became a new retention and the critical cauda equina card;
    a temperature from 2025 an infection card. Read by the start, as before."""
    cards = _cards(_observed("ret", RETENTION, {"start": "2024-06-01", "end": end}),
                   _temperature({"start": "2025-01-01T08:00:00Z", "end": end}), IV_DRUG_USE)
    assert set(cards) == {"conservative-care"}


def test_a_heavier_weight_over_a_period_ending_in_the_window_shows_the_loss() -> None:
    # 82 kg over a period from 300 to 20 days ago, 76 kg yesterday: a 7.3 % loss in the
    # 182-day window (before, the 82 kg was dropped as too old: "No red flag recorded")
    heavier = _weight("w1", 82, {"start": _ago(300), "end": _ago(20)})
    latest = _weight("w2", 76, {"start": _ago(1), "end": _ago(1)})
    summary = _conservative_summary(heavier, latest)
    assert "re-assess: weight loss (82 to 76 kg) recorded" in summary


def test_a_back_pain_over_a_period_has_lasted_since_its_start() -> None:
    """How long back pain has lasted is judged from when it began (``Fact.began_by``), not
    from the end of the period it was observed over: 70 days at 76, NG12's myeloma bloods."""
    pain = _observed("pain", {"coding": [{"system": SNOMED, "code": "279039007"}]},
                     {"start": _ago(70), "end": _ago(1)})
    card = _cards(pain, born="1950-05-01")["malignancy"]
    assert card["summary"].endswith("60 or over with persistent back pain (NICE NG12, myeloma)")
    assert "with back pain for 10 weeks" in card["detail"]


def _calcium(period: dict[str, str]) -> dict[str, Any]:
    return _observed("ca", {"coding": [{"system": LOINC, "code": "17861-6"}]}, period,
                     {"value": 2.4, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"})


PAIN_70_DAYS = _observed("pain", {"coding": [{"system": SNOMED, "code": "279039007"}]},
                         {"start": _ago(70), "end": _ago(1)})


def test_a_result_counts_as_done_by_when_its_period_began() -> None:
    """A window that stands a card down reads when a result began (``begun_within``): a
    calcium over a period from 3 days ago is a recent test, not suggested again; one from
    20 days ago that ended 3 days ago, or from 2024 "to 9999", is not (the review: a blood
    count from 2024 became a test done this week, and NICE NG12's bloods were not
    suggested)."""
    card = _cards(PAIN_70_DAYS, _calcium({"start": _ago(3), "end": _ago(1)}),
                  born="1950-05-01")["malignancy"]
    assert "calcium" not in card["summary"].lower()
    assert "Already done, not suggested again" in card["detail"]
    for period in ({"start": _ago(20), "end": _ago(3)},
                   {"start": "2024-01-10T09:00:00Z", "end": "9999-12-31"}):
        card = _cards(PAIN_70_DAYS, _calcium(period), born="1950-05-01")["malignancy"]
        assert "calcium" in card["summary"].lower(), period


def test_words_in_an_observation_over_a_period_count_until_its_end() -> None:
    # the uncoded reader dates an Observation as its coded facts are dated
    words = _observed("void", {"text": "Unable to void since last night"},
                      {"start": _ago(120), "end": _ago(2)})
    card = _cards(words)["cauda-equina"]
    assert card["summary"].startswith("Check the record: uncoded entry suggests")
    assert "older than the 'new' window" not in card["detail"]
