"""A dataAbsentReason on a finding Observation is read as the reason it gives (CLINICAL.md
principles 1 and 2).

FHIR R4 CodeSystem http://terminology.hl7.org/CodeSystem/data-absent-reason (v4.0.1,
hl7.org/fhir/R4/codesystem-data-absent-reason.html): ``not-asked`` ("the workflow didn't
lead to this value being known"), ``not-performed`` ("the observation procedure was not
performed") and ``not-applicable`` ("there is no proper value for this element") say
nobody asked or looked: nothing was recorded, no fact. Every other reason (``unknown``,
``asked-unknown``, ``temp-unknown``, ``asked-declined``, ``masked``, ``unsupported``,
``as-text``, ``error`` and its children, ``not-permitted``, or a reason in words only) does
not deny the finding the Observation names: the fact counts, as a ``valueString``
"Unknown" answer already did. Before, any dataAbsentReason was read as "absent": urinary
retention "asked, unknown" gave "No red flag recorded".

A quantity (temperature, weight) and the HLA-B27 result keep reading any dataAbsentReason
as no value (no number, no result); a component's own reason answers for itself and the
panel's never speaks for a component.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.model import LOCAL_FINDING_SYSTEM
from cds_rules.record import build_record
from cds_rules.record.negation import presence
from cds_rules.settings import DEFAULT_SETTINGS

PID = "dar-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
LOCAL = "http://hospital.example.org/cs"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RETENTION = {"coding": [{"system": SNOMED, "code": "267064002", "display": "Retention of urine"}]}
SADDLE = {"coding": [{"system": LOCAL_FINDING_SYSTEM, "code": "saddle-anaesthesia"}]}
WEAKNESS = {"coding": [{"system": SNOMED, "code": "26544005", "display": "Muscle weakness"}]}
UNCODED_RETENTION = {"coding": [{"system": LOCAL, "code": "BLAD7"}], "text": "Urinary retention"}
CRITICAL = {"cauda-equina": "critical"}
CONSERVATIVE = {"conservative-care": "info"}


def _reason(code: str, system: str = DAR) -> dict[str, Any]:
    return {"dataAbsentReason": {"coding": [{"system": system, "code": code}]}}


NOT_RECORDED = {
    "not-asked": _reason("not-asked"),
    "not-performed": _reason("not-performed"),
    "not-applicable": _reason("not-applicable"),
    "not-asked, DSTU2/STU3 system": _reason("not-asked", "http://hl7.org/fhir/data-absent-reason"),
}
DOES_NOT_DENY = {
    **{code: _reason(code) for code in (
        "unknown", "asked-unknown", "temp-unknown", "asked-declined", "masked", "unsupported",
        "as-text", "error", "not-a-number", "negative-infinity", "positive-infinity",
        "not-permitted")},
    "text only": {"dataAbsentReason": {"text": "Patient unsure"}},
    "a code of another system": _reason("ASKU", "http://terminology.hl7.org/CodeSystem/"
                                        "v3-NullFlavor"),
    "not-asked beside asked-unknown": {"dataAbsentReason": {"coding": [
        {"system": DAR, "code": "not-asked"}, {"system": DAR, "code": "asked-unknown"}]}},
}


def _observation(code: dict[str, Any], rid: str = "obs", **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "subject": SUBJECT,
            "effectiveDateTime": "2026-11-21T09:00:00Z", "code": code, **elements}


def _request(*observations: dict[str, Any]) -> HookRequest:
    patient = {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
               "gender": "female"}
    sciatica = {"resourceType": "Condition", "id": "sciatica", "subject": SUBJECT,
                "code": {"coding": [{"system": SNOMED, "code": "23056005"}]},
                "onsetDateTime": "2026-11-18T09:00:00Z"}
    return HookRequest(hook="patient-view", patient_id=PID,
                       resources=(patient, sciatica, *observations))


def _concepts(*observations: dict[str, Any]) -> list[str]:
    record = build_record(_request(*observations), NOW, DEFAULT_SETTINGS)
    return sorted(f.concept for f in record.facts if f.source.startswith("Observation/"))


def _cards(*observations: dict[str, Any]) -> dict[str, str]:
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(_request(*observations), NOW).cards)}


@pytest.mark.parametrize("reason", DOES_NOT_DENY.values(), ids=DOES_NOT_DENY.keys())
def test_a_reason_that_does_not_deny_keeps_the_finding(reason: dict[str, Any]) -> None:
    assert presence(reason) is None
    assert _concepts(_observation(RETENTION, **reason)) == ["urinary_retention"]
    assert _cards(_observation(RETENTION, **reason)) == CRITICAL


@pytest.mark.parametrize("reason", NOT_RECORDED.values(), ids=NOT_RECORDED.keys())
def test_nobody_asked_or_looked_is_no_fact(reason: dict[str, Any]) -> None:
    assert presence(reason) is False
    assert _concepts(_observation(RETENTION, **reason)) == []
    assert _cards(_observation(RETENTION, **reason)) == CONSERVATIVE


@pytest.mark.parametrize(("code", "concept"), [
    (SADDLE, "saddle_anaesthesia"), (WEAKNESS, "muscle_weakness")])
def test_every_finding_reads_the_reason_alike(code: dict[str, Any], concept: str) -> None:
    assert _concepts(_observation(code, **_reason("asked-unknown"))) == [concept]
    assert _concepts(_observation(code, **_reason("not-performed"))) == []


def test_saddle_numbness_asked_unknown_is_an_emergency() -> None:
    assert _cards(_observation(SADDLE, **_reason("asked-unknown"))) == CRITICAL


def test_an_uncoded_entry_whose_value_is_unknown_keeps_its_warning() -> None:
    assert _cards(_observation(UNCODED_RETENTION, **_reason("asked-unknown"))) == {
        "cauda-equina": "warning"}
    assert _cards(_observation(UNCODED_RETENTION, **_reason("not-asked"))) == CONSERVATIVE


PANEL = {"coding": [{"system": LOCAL, "code": "BLADDER"}], "text": "Bladder screen"}


def test_a_component_reads_its_own_reason() -> None:
    unknown = {"code": RETENTION, **_reason("asked-unknown")}
    not_asked = {"code": RETENTION, **_reason("not-asked")}
    assert _cards(_observation(PANEL, component=[unknown])) == CRITICAL
    assert _cards(_observation(PANEL, component=[not_asked])) == CONSERVATIVE


@pytest.mark.parametrize("reason", ["not-asked", "asked-unknown"])
def test_the_panels_reason_never_speaks_for_a_component(reason: str) -> None:
    """A component without a value of its own is not answered by the panel's missing value,
    whatever its reason (unchanged)."""
    silent = {"code": RETENTION}
    assert _cards(_observation(PANEL, component=[silent], **_reason(reason))) == CRITICAL


@pytest.mark.parametrize("reason", ["asked-unknown", "unknown", "not-asked"])
def test_a_quantity_or_a_test_result_with_a_reason_is_still_no_fact(reason: str) -> None:
    temperature = _observation({"coding": [{"system": LOINC, "code": "8310-5"}]}, rid="t",
                               **_reason(reason))
    hla_b27 = _observation({"coding": [{"system": LOINC, "code": "4821-5"}]}, rid="h",
                           **_reason(reason))
    assert _concepts(temperature, hla_b27) == []


@pytest.mark.parametrize(("reason", "shown"), [
    (_reason("asked-unknown"), "(answer recorded as asked-unknown)"),
    (_reason("error"), "(answer recorded as error)"),
    ({"dataAbsentReason": {"text": "Patient unsure"}}, "(answer recorded as Patient unsure)"),
])
def test_the_card_says_how_the_finding_was_answered(reason: dict[str, Any], shown: str) -> None:
    """Independent review (December 2026): a finding counted with an unknown answer gives
    the critical card, and its 'Why' line says how it was answered (principle 3: a card a
    clinician can check); a finding with a value is shown as before."""
    cards = to_json(evaluate(_request(_observation(RETENTION, **reason)), NOW).cards)
    assert [c["indicator"] for c in cards] == ["critical"]
    assert shown in cards[0]["detail"]
    plain = to_json(evaluate(_request(_observation(RETENTION, valueBoolean=True)), NOW).cards)
    assert "answer recorded as" not in plain[0]["detail"]
