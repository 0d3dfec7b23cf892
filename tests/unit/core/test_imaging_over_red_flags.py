"""IMG-01 1.11.0 / IMG-04 1.10.0 through the record builder: a draft spine MRI in acute back
pain beside a red flag that met no rule, or one dated after today, is not called unneeded.

Before, a temperature of 38.6 °C yesterday (no risk factor for infection), or a urinary
retention dated a month ahead, got "Remove the draft spine imaging: back pain under 6
weeks, no red flag (ACR variant 1)", "no red flag is recorded" and a delete suggestion,
while the patient-view card named the red flag. Which records: ``rule_cases/imaging.yaml``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from tests.unit.core.local_entries import SNOMED, SUBJECT

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
PATIENT = {"resourceType": "Patient", "id": "p", "birthDate": "1986-05-01"}
BACK_PAIN = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "onsetDateTime": "2026-02-20"}
DRAFT_MRI = {"resourceType": "ServiceRequest", "id": "mri", "status": "draft",
             "intent": "order", "subject": SUBJECT,
             "code": {"coding": [{"system": "http://loinc.org", "code": "24967-2"}]}}


def _temperature(status: str = "final") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "temp", "status": status, "subject": SUBJECT,
            "effectiveDateTime": "2026-02-28T18:00:00Z",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "valueQuantity": {"value": 38.6, "unit": "Cel",
                              "system": "http://unitsofmeasure.org", "code": "Cel"}}


RETENTION_AHEAD = {"resourceType": "Observation", "id": "ret", "status": "final",
                   "subject": SUBJECT, "effectiveDateTime": "2026-03-30T10:00:00Z",
                   "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}}


def _imaging_card(*entries: dict[str, Any], hook: str = "order-sign") -> dict[str, Any]:
    request = HookRequest(hook=hook, patient_id="p", resources=(PATIENT, BACK_PAIN, *entries),
                          draft_orders=(DRAFT_MRI,),
                          selections=("ServiceRequest/mri",) if hook == "order-select" else ())
    cards = [c for c in to_json(evaluate(request, NOW).cards)
             if c["source"]["topic"]["code"] == "imaging-not-indicated"]
    assert len(cards) == 1
    return cards[0]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_a_measured_fever_is_named_and_the_draft_not_offered_for_deletion(hook: str) -> None:
    card = _imaging_card(_temperature(), hook=hook)
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Re-assess fever (38.6 Cel) before deciding on the "
                                      "spine imaging")
    assert "suggestions" not in card
    assert "no red flag is recorded" not in card["detail"]
    assert "`Observation/temp`" in card["detail"]


def test_a_red_flag_dated_after_today_is_checked_first() -> None:
    card = _imaging_card(RETENTION_AHEAD)
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Check the date of Urinary retention")
    assert "suggestions" not in card
    assert "`BACKPAIN_CDS_CLOCK_SKEW_MINUTES` = 15" in card["detail"]


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_a_temperature_not_in_force_leaves_the_advice_as_it_was(status: str) -> None:
    card = _imaging_card(_temperature(status))
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Remove the draft spine imaging")
    assert "suggestions" in card


NIGHT_PAIN_AHEAD = {"resourceType": "Condition", "id": "np", "subject": SUBJECT,
                    "code": {"coding": [{"system": "https://backpain-cds.org/fhir/CodeSystem/"
                                                   "local-finding", "code": "night-pain"}]},
                    "onsetDateTime": "2026-03-31"}


@pytest.mark.parametrize(("entry", "named"), [
    # named by what it shows since CONS-01 2.17.0 / IMG-01 1.13.0 ("Body temperature" before)
    ({**_temperature(), "effectiveDateTime": "2026-03-03T10:00:00Z"}, "temperature 38.6 Cel"),
    (NIGHT_PAIN_AHEAD, "Night pain"),
])
def test_a_fever_or_night_pain_dated_after_today_is_checked_first(entry: dict[str, Any],
                                                                  named: str) -> None:
    """The third review: a temperature of 38.6 °C dated two days ahead, or a night pain a
    month ahead, still got "Remove the draft ... no red flag" (and, on patient-view, "No red
    flag recorded")."""
    card = _imaging_card(entry)
    assert card["summary"].startswith(f"Check the date of {named}")
    assert "suggestions" not in card
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=(PATIENT, BACK_PAIN, entry))
    (conservative,) = to_json(evaluate(request, NOW).cards)
    assert conservative["summary"].startswith(f"Check the date of {named}")
