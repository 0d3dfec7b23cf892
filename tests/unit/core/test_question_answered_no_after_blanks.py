"""A checklist's question answered no after two blanks or a tab denies its sign, as after
one blank (every rule's patch version of December 2026; the twenty-sixth session's note:
"'Saddle anaesthesia?  No' (two spaces) warns").

The clause splitter splits a flattened checklist at a tab or two blanks ("Fever: no  Trauma:
no"); it split "Urinary retention?  No" before its answer too, so the question stood
unanswered and kept its sign: a coded retention row so valued gave the critical cauda equina
card (a false emergency), the words in a local problem the uncoded warning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import parts_of, suggested
from cds_rules.weak_words import weak_signs
from tests.unit.core.local_entries import (
    local_problem,
    retention_row,
    with_back_pain,
)

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
ANSWERED_NO = ["Urinary retention?  No", "Urinary retention?\tNo", "Urinary retention ?  No",
               "Urinary retention?\t\tno"]
# (and a coded row "Urinary retention?  No - failed TWOC | Fever?  No" stays critical: below)
# ... and in words a bare "N" (a coded row's bare "? N" keeps its sign: the safe side, a
# decision of the twenty-fifth session's versions)


def _topics(*entries: dict[str, Any]) -> dict[str, str]:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(request, NOW).cards)}


@pytest.mark.parametrize("value", ANSWERED_NO)
def test_a_coded_rows_question_answered_no_after_blanks_is_no_emergency(value: str) -> None:
    assert _topics(retention_row(value)) == {"conservative-care": "info"}


@pytest.mark.parametrize("text", [*ANSWERED_NO, "Urinary retention?   N"])
def test_the_same_words_in_a_local_problem_warn_of_nothing(text: str) -> None:
    assert suggested(text, closes_negated) == ()
    assert _topics(local_problem(text)) == {"conservative-care": "info"}


@pytest.mark.parametrize("text", ["Fever?  No", "Night pain?\tNo", "Weight loss?   no"])
def test_a_weak_red_flag_answered_no_after_blanks_is_not_named(text: str) -> None:
    assert weak_signs(text, closes_negated) == ()


@pytest.mark.parametrize(("text", "signs"), [
    # answered otherwise: the sign stands
    ("Urinary retention?   Yes", ("urinary retention",)),
    # a checklist's columns still split after an answer
    ("Fever: no  Urinary retention: yes", ("urinary retention",)),
    ("Saddle anaesthesia?  No  Urinary retention?  Yes", ("urinary retention",)),
    ("Saddle anaesthesia?  No  Urinary retention?  No", ()),
    # the independent review of the first version: an answered question and the next one
    # in one clause ("|", "/", a blank between them) lost a sign answered yes, kept one
    # answered no or named the denied one
    ("Urinary retention?  Yes | Bowel incontinence?  No | Saddle anaesthesia?  No",
     ("urinary retention",)),
    ("Urinary retention?  Yes / Saddle anaesthesia?  No", ("urinary retention",)),
    ("Urinary retention?\tSaddle anaesthesia?\tNo", ("urinary retention",)),
    ("Night pain?  No | Urinary retention: No", ()), ("Trauma?  Yes / Urinary retention? No", ()),
    # a denial asked as a question and answered no keeps its sign (the safe side)
    ("Fever?  No Urinary retention?\tNo", ("urinary retention",)),
    ("Trauma?  Urinary retention? No", ()),
    ("New Night pain ?\t\tAny urinary retention ? None", ()),
    # the difficulty passing urine denied, as asked; "NO Urinary retention:<tab>Present" (a
    # form's columns run together) read the NO as the retention's until its label and value
    # were kept together (the twenty-ninth session): "Present" answers it now
    ("Is there Difficulty passing urine?  Denies; Pulsatile abdominal mass ?\tNO Urinary "
     "retention:\tPresent", ("aortic aneurysm or dissection", "urinary retention")),
    # a contrast or a figure after the answer keeps the sign, as with one blank
    ("Urinary retention?  No - but 900 ml on bladder scan", ("urinary retention",)),
    ("Saddle anaesthesia?  No, but tingling", ("saddle anaesthesia",)),
    # the third review: what follows an answer stays with it unless it is the form's next
    # question or label (a capital's): a qualifier, "N/A", "N/K" keep the sign open
    ("Urinary retention?  No - failed TWOC | Fever?  No", ("urinary retention",)),
    ("Urinary retention?  N/A | Fever?  No", ("urinary retention",)),
    ("Urinary retention?  N/K / Trauma?  No", ("urinary retention",)),
    ("Urinary retention?\tN/A\tFever?\tNo", ("urinary retention",)),
    ("Saddle anaesthesia?  No - partial", ("saddle anaesthesia",)),
    ("Cauda equina syndrome?  No - cannot exclude", ("cauda equina syndrome",)),
    ("Urinary retention?  No change: still retaining", ("urinary retention",)),
    ("Urinary retention?\u00a0\u00a0Yes | Saddle anaesthesia?\u00a0\u00a0No",
     ("urinary retention",)),
])


def test_another_answer_or_a_checklists_columns_keep_what_they_name(
        text: str, signs: tuple[str, ...]) -> None:
    assert tuple(sign for _, sign in suggested(text, closes_negated)) == signs


@pytest.mark.parametrize(("text", "signs"), [
    # an answer with more after it is split off as before: its question stays open (a weight
    # loss answered no beside it is kept: the safe side)
    ("Fever?  Yes | Weight loss?  No | Night pain?  No", ("fever", "weight loss")),
    ("Night pain?\tY | Fever?\tNo", ("night pain",)),
    ("Fever?  Present | Saddle anaesthesia?  None", ("fever",)),
    ("New weight loss?\t\t\u2713 | Weight loss? -", ("weight loss",)),
    ("Fever?\u00a0\u00a0Yes | Trauma?\u00a0\u00a0No", ("fever",)),
    ("Fever? yes | Leg weakness?  No", ("fever",)),
])
def test_a_weak_red_flag_answered_yes_beside_another_question_is_named(
        text: str, signs: tuple[str, ...]) -> None:
    assert weak_signs(text, closes_negated) == signs


@pytest.mark.parametrize("value", ["Urinary retention?   Yes",
                                   "Urinary retention?  No - failed TWOC | Fever?  No",
                                   "Urinary retention?  N/A | Fever?  No"])
def test_a_coded_rows_question_not_answered_no_is_still_the_emergency(value: str) -> None:
    assert _topics(retention_row(value)) == {"cauda-equina": "critical"}


@pytest.mark.parametrize("blanks", [" " * 1_000_000, "\t" * 1_000_000, "? " + " " * 1_000_000])
def test_a_megabyte_of_blanks_is_split_in_one_pass(blanks: str) -> None:
    """A run of blanks is entered once, at its start: the splitter stays linear."""
    assert len(list(parts_of("Fever: no" + blanks + "Trauma: no"))) <= 2
