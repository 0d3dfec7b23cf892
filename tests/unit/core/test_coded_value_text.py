"""A coded value's text that denies the finding is read as a valueString denial is, when no
value set knows the value's codings (CLINICAL.md principles 1 and 2).

Urinary retention recorded with ``valueCodeableConcept: {"text": "No urinary retention"}``
(no coding, or codings the service does not know) gave a critical cauda-equina card: a
coded value's words were read as one answer word only. Its text is now read with the rule
of ``valueString`` (``negation._denies``: a denial that speaks of no course, output or
assessment), so "No urinary retention" is absent and "Not able to void since 6am" is still
retention. A value whose coding a value set knows is never silenced by its words, and a
display is never read as a sentence ("Not improving" names a course, not an answer).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import to_json
from cds_rules.engine import HookRequest, evaluate
from cds_rules.record.negation import presence

PID = "cvt-1"
SUBJECT = {"reference": f"Patient/{PID}"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
LOCAL = "http://hospital.example.org/cs"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RETENTION_CODING = {"system": SNOMED, "code": "267064002", "display": "Retention of urine"}
RETENTION = {"coding": [RETENTION_CODING]}
UNCODED_RETENTION = {"coding": [{"system": LOCAL, "code": "BLAD7"}], "text": "Urinary retention"}
CRITICAL = {"cauda-equina": "critical"}
CONSERVATIVE = {"conservative-care": "info"}


def _text(text: str, *codings: dict[str, Any]) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if codings:
        concept["coding"] = list(codings)
    return {"valueCodeableConcept": concept}


def _cards(code: dict[str, Any], value: dict[str, Any]) -> dict[str, str]:
    patient = {"resourceType": "Patient", "id": PID, "birthDate": "1980-05-01",
               "gender": "female"}
    sciatica = {"resourceType": "Condition", "id": "sciatica", "subject": SUBJECT,
                "code": {"coding": [{"system": SNOMED, "code": "23056005"}]},
                "onsetDateTime": "2026-11-18T09:00:00Z"}
    observation = {"resourceType": "Observation", "id": "retention", "status": "final",
                   "subject": SUBJECT, "effectiveDateTime": "2026-11-21T09:00:00Z",
                   "code": code, **value}
    request = HookRequest(hook="patient-view", patient_id=PID,
                          resources=(patient, sciatica, observation))
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(request, NOW).cards)}


DENIALS = {
    "No urinary retention": _text("No urinary retention"),
    "Patient denies urinary retention": _text("Patient denies urinary retention"),
    "Negative for urinary retention": _text("Negative for urinary retention"),
    "retention: absent": _text("Urinary retention: absent"),
    "a local code no value set knows": _text("No urinary retention",
                                             {"system": LOCAL, "code": "ANS-4",
                                              "display": "Bladder screen answer"}),
    "a LOINC answer the service does not know": _text("No urinary retention",
                                                      {"system": LOINC, "code": "LA33-8"}),
}
NOT_DENIALS = {
    "Not able to void since 6am": _text("Not able to void since 6am"),
    "No urine output since yesterday": _text("No urine output since yesterday"),
    "Not improving": _text("Not improving"),
    "Not assessed": _text("Not assessed"),
    "a local code, Not able to void": _text("Not able to void since 6am",
                                            {"system": LOCAL, "code": "ANS-5"}),
}
RECOGNISED = {
    "the finding's own code": _text("No urinary retention", RETENTION_CODING),
    "a present qualifier": _text("No urinary retention",
                                 {"system": SNOMED, "code": "52101004", "display": "Present"}),
    "a display is no sentence": {"valueCodeableConcept": {"coding": [
        {"system": LOCAL, "code": "R1", "display": "No urinary retention"}]}},
}


@pytest.mark.parametrize("value", DENIALS.values(), ids=DENIALS.keys())
def test_a_text_that_denies_the_finding_states_it_absent(value: dict[str, Any]) -> None:
    assert presence(value) is False
    assert _cards(RETENTION, value) == CONSERVATIVE


@pytest.mark.parametrize("value", DENIALS.values(), ids=DENIALS.keys())
def test_an_uncoded_entry_denied_in_its_value_text_gives_no_warning(
        value: dict[str, Any]) -> None:
    assert _cards(UNCODED_RETENTION, value) == CONSERVATIVE


@pytest.mark.parametrize("value", NOT_DENIALS.values(), ids=NOT_DENIALS.keys())
def test_a_text_of_the_course_or_output_is_still_the_finding(value: dict[str, Any]) -> None:
    assert presence(value) is None
    assert _cards(RETENTION, value) == CRITICAL


@pytest.mark.parametrize("value", RECOGNISED.values(), ids=RECOGNISED.keys())
def test_a_recognised_coded_value_is_not_silenced_by_its_words(value: dict[str, Any]) -> None:
    assert presence(value) is not False
    assert _cards(RETENTION, value) == CRITICAL


def test_a_generic_observation_whose_value_is_the_finding_keeps_it() -> None:
    """The value is coded retention (a value set knows it): its text "No ..." is not read."""
    finding = {"coding": [{"system": SNOMED, "code": "404684003", "display": "Clinical finding"}]}
    assert _cards(finding, _text("No urinary retention", RETENTION_CODING)) == CRITICAL


def test_a_component_denied_in_its_value_text_does_not_count() -> None:
    panel = {"coding": [{"system": LOCAL, "code": "BLADDER"}], "text": "Bladder screen"}
    component = {"code": RETENTION, **_text("No urinary retention")}
    assert _cards(panel, {"component": [component]}) == CONSERVATIVE
    component = {"code": RETENTION, **_text("Not able to void since 6am")}
    assert _cards(panel, {"component": [component]}) == CRITICAL


@pytest.mark.parametrize(("code", "text"), [
    ("72042002", "No bowel control"),  # faecal incontinence
    ("165232002", "No bladder control"),  # urinary incontinence
    ("72042002", "No urinary symptoms but new faecal incontinence"),
    ("165232002", "No awareness of bladder filling"),
])
def test_a_value_that_describes_the_loss_is_no_denial(code: str, text: str) -> None:
    """Independent review (December 2026): words that describe the sign ("No bowel
    control" for faecal incontinence) or deny something else before a "but" state no
    absence: the critical card stays (before: "No red flag recorded"). Also as valueString."""
    finding = {"coding": [{"system": SNOMED, "code": code}]}
    assert _cards(finding, _text(text, {"system": LOCAL, "code": "X9"})) == CRITICAL
    assert _cards(finding, {"valueString": text}) == CRITICAL


@pytest.mark.parametrize(("code", "text"), [
    ("267064002", "No loss of bladder control"),
    ("72042002", "No loss of bowel control"),
    ("165232002", "Denies urinary incontinence or loss of bladder control"),
    ("72042002", "No problems with bladder or bowels"),
])
def test_a_denied_loss_is_a_denial(code: str, text: str) -> None:
    """Second independent review (December 2026): "No loss of bladder control" denies the
    loss (before the mend of the mend: a critical card)."""
    finding = {"coding": [{"system": SNOMED, "code": code}]}
    assert _cards(finding, {"valueString": text}) == CONSERVATIVE


@pytest.mark.parametrize("text", ["No saddle numbness", "Denies numbness", "No tingling",
                                  "No altered perianal sensation", "No abnormal sensation"])
def test_a_denied_symptom_word_is_a_denial(text: str) -> None:
    """Second independent review: numbness and tingling are the sign itself, so "No
    numbness" denies saddle anaesthesia (before the mend of the mend: a critical card)."""
    from cds_rules.model import LOCAL_FINDING_SYSTEM
    saddle = {"coding": [{"system": LOCAL_FINDING_SYSTEM, "code": "saddle-anaesthesia"}]}
    assert _cards(saddle, {"valueString": text}) == CONSERVATIVE


@pytest.mark.parametrize(("system", "code", "text"), [
    ("local", "saddle-anaesthesia", "No - numb buttocks"),
    ("local", "saddle-anaesthesia", "No, altered saddle sensation"),
    ("local", "saddle-anaesthesia", "Not complete, reduced perianal sensation"),
    ("local", "hyperreflexia", "No, brisk reflexes"),
    (SNOMED, "22325002", "Not walking"),
])
def test_an_answer_followed_by_a_description_of_the_sign_is_no_denial(
        system: str, code: str, text: str) -> None:
    """Third independent review (December 2026): "No, altered saddle sensation" answers
    something else and describes the sign: the critical card stays (before the mend: "No
    red flag recorded")."""
    from cds_rules.model import LOCAL_FINDING_SYSTEM
    finding = {"coding": [{"system": LOCAL_FINDING_SYSTEM if system == "local" else system,
                           "code": code}]}
    cards = _cards(finding, {"valueString": text})
    assert "critical" in cards.values(), cards


@pytest.mark.parametrize("text", [
    "No trauma, urinary retention", "Nil by mouth, urinary retention",
    "Without warning developed urinary retention", "No, 900ml residual",
    "Nil PU, bladder scan 900ml", "No catheter in situ, residual 800ml"])
def test_a_value_naming_the_sign_beside_another_denial_is_no_denial(text: str) -> None:
    """Fourth independent review (December 2026): a denial of something else, or a
    finding in numbers, beside the sign is no denial of it (before: 'No red flag
    recorded' on a retention Observation)."""
    assert _cards(RETENTION, {"valueString": text}) == CRITICAL


@pytest.mark.parametrize(("code", "text", "topic"), [
    ("6077001", "No dorsiflexion L ankle", "progressive-neurological-deficit"),  # foot drop
    ("local:saddle-anaesthesia", "Pinprick S2-4: absent", "cauda-equina"),
    ("local:saddle-anaesthesia", "No anal wink", "cauda-equina"),
    ("72042002", "Not continent of faeces", "cauda-equina"),
])
def test_a_deficit_found_in_the_examiners_words_is_no_denial(code: str, text: str,
                                                              topic: str) -> None:
    """Fourth independent review (December 2026): "No dorsiflexion", "No anal wink" are
    the deficit found, not its absence (before: 'No red flag recorded')."""
    from cds_rules.model import LOCAL_FINDING_SYSTEM
    system, _, value = code.rpartition(":")
    finding = {"coding": [{"system": LOCAL_FINDING_SYSTEM if system == "local" else SNOMED,
                           "code": value}]}
    assert topic in _cards(finding, {"valueString": text})


@pytest.mark.parametrize("text", ["No trauma, onset this morning", "No - seen on MRI",
                                  "No prior episodes, now present",
                                  "Denies trauma, onset yesterday"])
def test_a_value_that_denies_something_else_first_is_no_denial(text: str) -> None:
    """Fifth independent review (December 2026): a clause opening with a denial denies the
    finding only as a plain denial or when each of its parts does."""
    assert _cards(RETENTION, {"valueString": text}) == CRITICAL


@pytest.mark.parametrize("text", ["Not ruled out", "Not excluded", "No, not excluded",
                                  "Not absent", "No longer denies", "Not until today",
                                  "Not treated", "Not mild", "Denied initially"])
def test_a_denied_denial_or_a_qualifier_is_no_denial(text: str) -> None:
    """Sixth independent review (December 2026): a double negation, or words of when, how
    much or what was done, state no absence (before: 'No red flag recorded')."""
    assert _cards(RETENTION, {"valueString": text}) == CRITICAL
