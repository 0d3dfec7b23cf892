"""A Condition's or an Observation's notes (``Annotation.text``) are read with its words.

Before the thirtieth session no note was read: a haemoglobin noted "New urinary retention,
PVR 900 ml." gave the conservative card (the twenty-ninth session's fifth review). Each
"read" case below failed on the code before; the "not read" cases are guards.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.record import build_record
from cds_rules.record.entry_words import has_no_words, note_texts
from cds_rules.settings import DEFAULT_SETTINGS
from tests.unit.core.local_entries import (
    ACUTE_NOW,
    LOINC,
    SNOMED,
    SUBJECT,
    cards_by_topic,
    local_problem,
    with_back_pain,
)

HAEMOGLOBIN = {"coding": [{"system": LOINC, "code": "718-7", "display": "Hemoglobin"}]}
RETENTION = {"coding": [{"system": SNOMED, "code": "267064002"}]}  # retention of urine
HYPERTENSION = {"coding": [{"system": SNOMED, "code": "38341003"}]}
LOW_BACK_PAIN = {"coding": [{"system": SNOMED, "code": "279039007"}]}
GRAMS = {"value": 13.1, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}


def _observation(code: dict[str, Any] | str, notes: object = None, **values: Any
                 ) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resourceType": "Observation", "id": "o1", "status": "final", "subject": SUBJECT,
        "code": {"text": code} if isinstance(code, str) else code,
        "effectiveDateTime": "2026-02-28T09:00:00Z", **values}
    if notes is not None:
        entry["note"] = [{"text": notes}] if isinstance(notes, str) else notes
    return entry


def _condition(code: dict[str, Any], note: str, **more: Any) -> dict[str, Any]:
    return {**local_problem("Problem"), "code": code, "note": [{"text": note}], **more}


def _procedure(note: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": "pr1", "status": "completed", "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": "387731002",
                                 "display": "Lumbar discectomy"}]},
            "performedDateTime": "2026-02-27T10:00:00Z", "note": [{"text": note}], **more}


def _medicine(note: str, kind: str = "MedicationRequest", **more: Any) -> dict[str, Any]:
    entry = {"resourceType": kind, "id": "m1", "status": "active", "subject": SUBJECT,
             "medicationCodeableConcept": {"text": "Amitriptyline 10mg tablets"},
             "note": [{"text": note}], **more}
    when = {"intent": "order", "authoredOn": "2026-02-27"} if kind == "MedicationRequest" \
        else {"effectiveDateTime": "2026-02-27"}
    return {**when, **entry}


def _report(conclusion: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": "r1", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": "2026-02-27T10:00:00Z",
            "code": {"coding": [{"system": LOINC, "code": "24967-6",
                                 "display": "MR Lumbar spine"}]},
            "conclusion": conclusion, **more}


def _cards(*entries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cards_by_topic(*entries, now=ACUTE_NOW)


def _summary(cards: dict[str, dict[str, Any]], topic: str) -> str:
    assert topic in cards, sorted(cards)
    return str(cards[topic]["summary"])


@pytest.mark.parametrize(("entry", "sign"), [
    (_observation(HAEMOGLOBIN, "New urinary retention, PVR 900 ml.", valueQuantity=GRAMS),
     "urinary retention"),
    (_condition(HYPERTENSION, "New saddle anaesthesia today"), "saddle anaesthesia"),
    (_condition(LOW_BACK_PAIN, "with new urinary retention"), "urinary retention"),
    (_observation("Nursing comment", [{"authorString": "RN", "text": "Faecal incontinence "
                                       "overnight"}]), "faecal incontinence"),
])
def test_a_red_flag_in_a_note_is_the_uncoded_warning(entry: dict[str, Any], sign: str) -> None:
    cards = _cards(entry)
    assert cards["cauda-equina"]["indicator"] == "warning"
    assert sign in _summary(cards, "cauda-equina")
    assert "conservative-care" not in cards


def test_a_note_beside_a_value_denying_its_code_is_read_apart() -> None:
    """The value answers the code ("Urinary retention": No), not the clinician's note."""
    residual = _cards(_observation("Urinary retention", "Bladder scan residual 900 ml",
                                   valueBoolean=False))
    assert "post-void" in _summary(residual, "cauda-equina")
    coded = _cards(_observation(RETENTION, "New saddle anaesthesia", valueBoolean=False))
    assert "saddle anaesthesia" in _summary(coded, "cauda-equina")
    fever = _cards(_observation("Fever", "Temp 38.9 at 14:00", valueBoolean=False))
    assert "38.9 Cel" in _summary(fever, "conservative-care")
    # a note later than the answer: the code's own sign too (a review: the first version
    # left it to the value)
    later = _cards(_observation("Urinary retention", "14:00 now in urinary retention, "
                                "unable to void", valueString="No"))
    assert "urinary retention" in _summary(later, "cauda-equina")


def test_a_note_beside_a_coded_sign_denied_in_words_is_read() -> None:
    """A retention coded without a display and valued "No urinary retention" gives no
    fact; its note's saddle anaesthesia is read (a review: the first version passed it
    over as a family the codes gave)."""
    entry = _observation(RETENTION, "New saddle anaesthesia today",
                         valueString="No urinary retention")
    assert "saddle anaesthesia" in _summary(_cards(entry), "cauda-equina")


def test_a_later_temperature_noted_beside_a_coded_one_is_read() -> None:
    body_temperature = {"coding": [{"system": LOINC, "code": "8310-5"}]}
    entry = _observation(body_temperature, "Temp 38.9 at 16:00", valueQuantity={
        "value": 36.5, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"})
    assert "38.9 Cel" in _summary(_cards(entry), "conservative-care")


@pytest.mark.parametrize("notes", [
    [{"text": "_saddle numbness_ since this morning"}],
    [{"text": "__Saddle anaesthesia__ reported"}],
    [{"text": "Saddle\\_anaesthesia reported"}],
    {"text": "Saddle anaesthesia reported"},  # one note without its list
])
def test_a_notes_markdown_and_a_note_without_its_list_are_read(notes: object) -> None:
    entry = {**_observation(HAEMOGLOBIN, valueQuantity=GRAMS), "note": notes}
    assert "saddle" in _summary(_cards(entry), "cauda-equina")


@pytest.mark.parametrize("entry", [
    _condition(HYPERTENSION, "Denies urinary retention or saddle anaesthesia"),
    _observation(HAEMOGLOBIN, "New urinary retention", valueQuantity=GRAMS,
                 status="entered-in-error"),
    _condition(HYPERTENSION, "New urinary retention", verificationStatus={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "refuted"}]}),
])
def test_a_note_denied_answered_or_in_an_entry_not_read_names_nothing(
        entry: dict[str, Any]) -> None:
    cards = _cards(entry)
    assert set(cards) == {"conservative-care"}
    assert "No red flag" in _summary(cards, "conservative-care")


def test_a_weak_red_flag_in_a_note_is_named() -> None:
    cards = _cards(_condition(HYPERTENSION, "Night sweats and weight loss"))
    assert "in words" in _summary(cards, "conservative-care")


@pytest.mark.parametrize("notes", [
    "Denies retention",  # a note does not deny its entry's codes
    "not a list", [{"text": 5}], [{"authorString": "RN"}], [None, 3], {"text": 5},
])
def test_a_coded_red_flag_keeps_its_card_whatever_its_note(notes: object) -> None:
    """A malformed note is passed over (read outside the R4B check), never costing the
    entry: the coded retention stays the critical card, and no resource is skipped."""
    entry = {**_observation(RETENTION, valueBoolean=True), "note": notes}
    cards = _cards(entry)
    assert cards["cauda-equina"]["indicator"] == "critical"
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(entry))
    quality = build_record(request, ACUTE_NOW, DEFAULT_SETTINGS).quality
    assert quality.skipped_invalid == 0


def test_a_lone_surrogate_in_a_note_is_read_as_a_replacement_and_counted() -> None:
    entry = _observation(HAEMOGLOBIN, "\ud800 New urinary retention", valueQuantity=GRAMS)
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(entry))
    cards = to_json(evaluate(request, ACUTE_NOW).cards)
    written = orjson.dumps(cards).decode()  # no lone surrogate left to fail the answer
    assert "urinary retention" in written and "\ufffd New urinary retention" in written
    assert all("1 character of the sent text (a broken UTF-16 surrogate" in card["detail"]
               for card in cards)


def test_a_conditions_note_names_its_back_pain() -> None:
    """The call's context, as the entry's other words give it (a Condition's only)."""
    condition = _condition(HYPERTENSION, "Low back pain since this morning, worse today")
    observation = _observation(HAEMOGLOBIN, "Low back pain", valueQuantity=GRAMS)
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-01"}
    for entry, named in ((condition, True), (observation, False)):
        request = HookRequest(hook="patient-view", patient_id="p", resources=(patient, entry))
        record = build_record(request, ACUTE_NOW, DEFAULT_SETTINGS)
        assert any(f.concept == "low_back_pain" for f in record.facts) is named


NOTES_NOT_READ = ("1 entry's notes not read because of their length: longer than the service "
                  "reads in one call")


def test_notes_past_the_words_limit_are_named_and_the_entry_is_read_without_them() -> None:
    """A discharge summary pasted into a note (past ENTRY_WORDS_READ) does not cost the
    entry its own words (a review found the first version set the whole entry aside: a
    local "Urinary retention" lost its warning); the notes are named on every card."""
    pasted = [{"text": "Discharge summary. " + "Uneventful stay. " * 4_000}]
    retention = {**local_problem("Urinary retention"), "note": pasted}
    cards = _cards(retention)
    assert "urinary retention" in _summary(cards, "cauda-equina")
    assert NOTES_NOT_READ in cards["cauda-equina"]["detail"]
    for entry in (_condition(HYPERTENSION, "x") | {"note": pasted},
                  _procedure("x") | {"note": pasted}):
        cards = _cards(entry)
        summary = _summary(cards, "conservative-care")
        assert summary.startswith(f"Check the notes of a {entry['resourceType']} entry")
        assert NOTES_NOT_READ in cards["conservative-care"]["detail"]


def test_the_notes_are_words_of_their_own() -> None:
    entry = _observation(HAEMOGLOBIN, [{"text": "first"}, {"text": " "}, {"time": "2026"},
                                       {"text": "second"}], valueQuantity=GRAMS)
    assert note_texts(entry) == ["first", "second"]
    assert not has_no_words(entry)  # the record's shortcut does not pass it over
    del entry["note"]
    assert has_no_words(entry)


@pytest.mark.parametrize(("entry", "topic", "sign"), [
    (_procedure("Post-op urinary retention, catheterised"), "cauda-equina", "urinary retention"),
    (_medicine("Stopped: new urinary retention"), "cauda-equina", "urinary retention"),
    (_medicine("Stopped: new urinary retention", "MedicationStatement"), "cauda-equina",
     "urinary retention"),
    (_report("Large L4/5 disc extrusion compressing the cauda equina."), "cauda-equina",
     "cauda equina"),
    (_report("Lytic lesion L2 suspicious for metastasis"), "malignancy", "cancer"),
    (_report("Preliminary", status="preliminary",
             note=[{"text": "Saddle anaesthesia reported"}]), "cauda-equina",
     "saddle anaesthesia"),
])
def test_a_red_flag_in_another_entrys_note_or_a_reports_conclusion_is_read(
        entry: dict[str, Any], topic: str, sign: str) -> None:
    cards = _cards(entry)
    assert cards[topic]["indicator"] == "warning"
    assert sign in _summary(cards, topic)


@pytest.mark.parametrize("entry", [
    _report("No cord compression. No cauda equina compression. Mild degenerative change."),
    _procedure("Uneventful. No urinary retention."),
    _procedure("Post-op urinary retention", status="entered-in-error"),
    _medicine("Stopped: new urinary retention", status="cancelled"),
])
def test_another_entrys_note_denied_or_withdrawn_names_nothing(entry: dict[str, Any]) -> None:
    cards = _cards(entry)
    assert set(cards) == {"conservative-care"}
    assert "No red flag" in _summary(cards, "conservative-care")


def test_a_temperature_in_a_reports_note_is_named() -> None:
    cards = _cards(_report("Normal", note=[{"text": "Temp 38.9 during the scan"}]))
    assert "38.9 Cel" in _summary(cards, "conservative-care")


def test_a_note_of_an_invalid_entry_is_set_aside_and_named_once() -> None:
    """Its time unreadable, the red flag its note names cannot be dated: named on the card
    as an entry the service could not read (never "no red flag"), counted once."""
    entry = _procedure("Post-op urinary retention", performedDateTime="yesterday")
    cards = _cards(entry)
    assert "Post-op urinary retention" in _summary(cards, "conservative-care")
    assert "No red flag" not in _summary(cards, "conservative-care")
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(entry))
    record = build_record(request, ACUTE_NOW, DEFAULT_SETTINGS)
    assert "1 entry" in " ".join(record.quality.data_gaps)


def test_a_procedures_note_is_dated_by_the_procedure() -> None:
    """A retention noted after an operation in 2012 is that operation's, not today's."""
    old = _procedure("Post-op urinary retention, catheterised",
                     performedDateTime="2012-02-27T10:00:00Z")
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(old))
    record = build_record(request, ACUTE_NOW, DEFAULT_SETTINGS)
    noted = [f for f in record.facts if f.concept == "uncoded:cauda-equina"]
    assert [f.when.year for f in noted if f.when] == [2012]
    assert "cauda-equina" not in _cards(old)


def test_notes_never_take_the_allowance_of_the_entries_own_words() -> None:
    """Notes have their own allowance in a call (CALL_NOTES_READ): eight rows noted with
    64 KB each leave the next entries' own words read (a review found the first version,
    which counted them together, lost the local retention's warning after them)."""
    filler = _observation(HAEMOGLOBIN, "Settled overnight. " * 3_449 + "Well.",
                          valueQuantity=GRAMS)  # 65,536 characters: the limit of one entry
    fillers = [{**filler, "id": f"f{n}"} for n in range(8)]
    cards = _cards(*fillers, local_problem("Urinary retention"))
    assert "urinary retention" in _summary(cards, "cauda-equina")


def test_notes_past_the_limit_of_an_entry_not_done_are_named() -> None:
    """A procedure not done is read (its note may say why), so its notes past the limits are
    named, never passed over under "no red flag" (a review)."""
    short = _procedure("Not done: new urinary retention", status="not-done")
    assert "urinary retention" in _summary(_cards(short), "cauda-equina")
    long = _procedure("Not done. " + "Routine text. " * 5_000, status="not-done")
    summary = _summary(_cards(long), "conservative-care")
    assert summary.startswith("Check the notes of a Procedure entry")


def test_a_note_is_dated_by_its_own_time() -> None:
    """A note written today on a medicine started last year is today's (a review: dated by
    the request, it fell outside every window)."""
    medicine = _medicine("x", authoredOn="2025-06-01") | {"note": [{
        "time": "2026-02-28T08:00:00Z",
        "text": "Stopped today: new urinary retention, unable to void"}]}
    assert "urinary retention" in _summary(_cards(medicine), "cauda-equina")
    undated = medicine | {"note": [{"time": "not a time", "text": "x"}]}
    assert "cauda-equina" not in _cards(undated)


@pytest.mark.parametrize("time", ["2026-03-10T00:00:00Z", "2100-01-01",  # after the clock
                                  "2016-02-27T10:00:00Z"])  # before the entry began
def test_a_note_time_after_the_clock_or_before_its_entry_is_the_entrys(time: str) -> None:
    """A third review: a note dated ahead of the clock was read as a future fact (dropped
    under "no red flag"), one dated before its report pushed the finding out of a window."""
    procedure = _procedure("x") | {"note": [{
        "time": time, "text": "Post-op urinary retention, catheterised"}]}
    assert "urinary retention" in _summary(_cards(procedure), "cauda-equina")
    report = _report("Normal") | {"note": [{
        "time": time, "text": "Compression of the cauda equina at L4/5"}]}
    assert "cauda-equina" in _cards(report)


def test_an_unread_reports_invalid_entry_with_a_red_flag_note_is_counted_skipped() -> None:
    report = _report("Compression of the cauda equina", effectiveDateTime="yesterday",
                     code={"coding": [{"system": "http://hospital.example.org/codes",
                                       "code": "RAD1"}]})
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(report))
    quality = build_record(request, ACUTE_NOW, DEFAULT_SETTINGS).quality
    assert quality.skipped_invalid == 1
    assert "1 entry naming a red flag, malformed" in " ".join(quality.data_gaps)
