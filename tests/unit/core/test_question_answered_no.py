"""A red-flag sign written as a checklist's question answered no (every rule one minor on,
twenty-fifth session).

"Saddle anaesthesia? No", "Urinary retention? - N": the question mark kept the sign
(`record.negation.closes_negated` refused any "?"), so a flowsheet row coded urinary
retention holding "Urinary retention? No" gave the critical cauda equina card, and the same
words in a note the uncoded warning (the twenty-fourth session's closing note: "Legs giving
way? No" warned). A question answered anything else, or a query before the sign ("?CES -
no": the query is the note's), keeps the sign, as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import SNOMED, local_problem, with_back_pain

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

ANSWERED_NO = [  # read as its sign before (the last two were not read at all before)
    "Saddle anaesthesia? No", "Urinary retention? - N", "Legs giving way?: nil",
    "Saddle anaesthesia? No, urinary retention? No", "Weak legs? No",
    "Faecal incontinence? None", "Cauda equina syndrome? Negative",
    "Pulsatile mass epigastric? No", "Altered sensation penis? no.",
]

# The independent review: a question that is itself a denial or a verdict, answered no,
# says the sign is there; a contrast after the answer may be the sign it denied
NEGATED_QUESTIONS = [
    "Urinary retention ruled out? No", "Urinary retention excluded? No",
    "Urinary retention absent? No", "Urinary retention: absent? No", "CES ruled out? N",
    "Saddle anaesthesia not present? No", "Cauda equina screen negative? No",
    "AAA excluded? No",
]
CONTRAST_AFTER = [
    "Urinary retention? No, but residual 800ml", "Saddle anaesthesia? No - but tingling",
    "Leg weakness? no - but worse",
]

STILL_READ = [  # (text, topic): read before and after
    ("?CES - no", Topic.CAUDA_EQUINA), ("Saddle anaesthesia? Yes", Topic.CAUDA_EQUINA),
    ("Urinary retention? No - 900 ml on bladder scan", Topic.CAUDA_EQUINA),
    ("Urinary retention? Not sure", Topic.CAUDA_EQUINA),
    ("Urinary retention? no. Faecal incontinence? yes", Topic.CAUDA_EQUINA),
    ("Weak legs?", Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT),
    ("Leg weakness? No change", Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT),
]


@pytest.mark.parametrize("text", ANSWERED_NO)
def test_a_question_answered_no_names_no_sign(text: str) -> None:
    assert suggested(text, closes_negated) == ()


@pytest.mark.parametrize("text", NEGATED_QUESTIONS + CONTRAST_AFTER)
def test_a_negated_question_or_a_contrast_after_the_answer_keeps_the_sign(text: str) -> None:
    assert suggested(text, closes_negated) != ()


def test_a_coded_row_answering_a_negated_question_no_stays_critical() -> None:
    """"Urinary retention ruled out? No": not ruled out (the review: a first version read
    it as absent, and the critical card was lost)."""
    cards = _cards(_retention_row("Urinary retention ruled out? No"))
    assert cards["cauda-equina"]["indicator"] == "critical"


@pytest.mark.parametrize(("text", "topic"), STILL_READ)
def test_any_other_answer_or_a_query_before_the_sign_keeps_it(text: str, topic: Topic) -> None:
    assert topic in dict(suggested(text, closes_negated))


@pytest.mark.parametrize(("segment", "closes"), [
    ("Saddle anaesthesia? No", True), ("Urinary retention?: nil", True),
    ("Urinary retention? No change", False), ("?CES - no", False),
    ("Retention? no ?yes", False), ("Urinary retention absent", True),
])
def test_closes_negated_reads_a_question_answered_no(segment: str, closes: bool) -> None:
    assert closes_negated(segment) is closes


def _retention_row(value: str) -> dict[str, Any]:
    """A flowsheet row coded urinary retention (SNOMED CT 267064002) answered in words."""
    return {"resourceType": "Observation", "id": "row", "status": "final",
            "subject": {"reference": "Patient/p"},
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]},
            "valueString": value, "effectiveDateTime": "2026-02-28"}


def _cards(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(entry))
    return {c["source"]["topic"]["code"]: c for c in to_json(evaluate(request, NOW).cards)}


def test_a_coded_row_answered_no_in_question_form_gives_no_emergency() -> None:
    """Before: the critical cauda equina card over "Urinary retention? No"."""
    cards = _cards(_retention_row("Urinary retention? No"))
    assert set(cards) == {"conservative-care"}


def test_a_coded_row_answered_yes_in_question_form_stays_critical() -> None:
    cards = _cards(_retention_row("Urinary retention? Yes"))
    assert cards["cauda-equina"]["indicator"] == "critical"


def test_a_note_answered_no_leaves_the_conservative_card() -> None:
    """Before: "Check the record: uncoded entry suggests saddle anaesthesia"."""
    assert set(_cards(local_problem("Saddle anaesthesia? No"))) == {"conservative-care"}


@pytest.mark.parametrize("value", ["Urinary retention? No \ufffd", "Absent \ufffd",
                                   "Urinary retention absent \ufffd"])
def test_a_character_the_encoding_lost_after_the_answer_does_not_hide_it(value: str) -> None:
    """A cut emoji is read as U+FFFD ("a broken UTF-16 character costs a character"): after
    "absent" it left the row's retention standing (the critical card)."""
    assert set(_cards(_retention_row(value))) == {"conservative-care"}
