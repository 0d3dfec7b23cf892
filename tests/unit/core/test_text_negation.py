"""Free-text values are negated like coded ones (CLINICAL.md safety principle 2).

An Observation of urinary retention whose ``valueString`` says "no urinary retention" is
an absent finding: no fact, no card. A statement that the sign is there stays a fact,
and so does a note whose only negation is about something else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import build_record
from cds_rules.settings import DEFAULT_SETTINGS

PID = "neg-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _resources(text: str) -> tuple[dict[str, Any], ...]:
    patient = {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
               "gender": "female"}
    back_pain = {"resourceType": "Condition", "id": "lbp", "subject": SUBJECT,
                 "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
                 "onsetDateTime": "2026-11-18T09:00:00Z"}
    retention = {"resourceType": "Observation", "id": "retention", "status": "final",
                 "subject": SUBJECT, "effectiveDateTime": "2026-11-21T09:00:00Z",
                 "code": {"coding": [{"system": SNOMED, "code": "267064002"}]},
                 "valueString": text}
    return patient, back_pain, retention


def _retention_facts(text: str) -> list[Any]:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=_resources(text))
    record = build_record(request, NOW, DEFAULT_SETTINGS)
    return [f for f in record.facts if f.concept == "urinary_retention"]


def _cards(text: str) -> dict[str, str]:
    request = HookRequest(hook="patient-view", patient_id=PID, resources=_resources(text))
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(request, NOW).cards)}


def test_no_urinary_retention_is_no_fact_and_no_emergency() -> None:
    assert _retention_facts("no urinary retention") == []
    assert _cards("no urinary retention") == {"conservative-care": "info"}


def test_urinary_retention_present_is_a_fact_and_an_emergency() -> None:
    assert len(_retention_facts("urinary retention present")) == 1
    assert _cards("urinary retention present") == {"cauda-equina": "critical"}


@pytest.mark.parametrize("text", [
    "No urinary retention.",
    "Patient denies urinary retention",
    "Denied",
    "urinary retention: absent",
    "Retention not present",
    "Negative for urinary retention",
    "Without retention",
    "Nil retention; no incontinence",
    "Not retaining",
    "Urinary retention - no",
])
def test_negated_statements_give_no_fact(text: str) -> None:
    assert _retention_facts(text) == []


@pytest.mark.parametrize("text", [
    "Not able to void since 6am", "No urine output since yesterday", "Not voided since 6am",
    "None voided", "Not voiding", "Not improving", "Not resolved", "No change",
    "No improvement since catheter removed", "Not assessed", "Unable to pass urine",
])
def test_sentences_of_course_or_output_do_not_deny_the_finding(text: str) -> None:
    """Retention recorded with words that describe it or its course ("Not able to void",
    "No urine output") is retention: still an emergency (second independent review: these
    were read as "absent" and gave "No red flag recorded")."""
    assert len(_retention_facts(text)) == 1
    assert _cards(text) == {"cauda-equina": "critical"}


@pytest.mark.parametrize("text", [
    "Urinary retention",
    "Retention of urine since yesterday, catheterised",
    "Retention without overflow incontinence",
    "No saddle numbness. Urinary retention present.",
    "Unable to void, bladder palpable",
    "Nocturia and retention",  # "no" only as part of a word
])
def test_statements_of_the_sign_stay_facts(text: str) -> None:
    assert len(_retention_facts(text)) == 1
