"""A flattened form's label and its value standing alone after two blanks or a tab are read
as after one blank (every rule's version of December 2026, the twenty-eighth session's note).

The clause splitter splits a flattened checklist at a tab or two blanks ("Fever: no  Trauma:
no"); since the twenty-eighth session it keeps a question with its answer ("Urinary
retention?  No"), but a label written with a colon, a dash, "(Y/N)" or nothing was still
split from its value: a coded retention row valued "Urinary retention:  No" gave the critical
cauda equina card (a false emergency), and a sign written as a label and a finding ("Perianal
sensation<tab>absent", "Anal tone<tab>Reduced", "Anal tone?  Absent") was not read at all.
Now a value that stands alone (at the end, before a full stop, a line, a tab or the next
column's two blanks) stays with its label: an answer ("No", "Yes", "Absent", "Nil"...) or a
finding of loss ("Reduced", "Altered", "Lax"...). A value with more after it is split off as
before, so its label keeps its sign ("Urinary retention:  No, failed TWOC").
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
ANSWERED_NO = ["Urinary retention:  No", "Urinary retention -  No", "Urinary retention\tNo",
               "Urinary retention:\tNo", "Urinary retention  No", "Urinary retention? (Y/N)  No",
               "Urinary retention? (Y/N) No", "Urinary retention? [Y/N] no",
               "Urinary retention:   Nil.", "Urinary retention:\tDenies  Fever: no"]


def _topics(*entries: dict[str, Any]) -> dict[str, str]:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))
    return {c["source"]["topic"]["code"]: c["indicator"]
            for c in to_json(evaluate(request, NOW).cards)}


@pytest.mark.parametrize("value", ANSWERED_NO)
def test_a_coded_rows_label_answered_no_after_blanks_is_no_emergency(value: str) -> None:
    assert _topics(retention_row(value)) == {"conservative-care": "info"}


@pytest.mark.parametrize("text", ANSWERED_NO)
def test_the_same_words_in_a_local_problem_warn_of_nothing(text: str) -> None:
    assert suggested(text, closes_negated) == ()


@pytest.mark.parametrize("text", ["Fever:  No", "Night pain\tNo", "Weight loss -   no",
                                  "Fever? (Y/N)  No"])
def test_a_weak_red_flag_answered_no_after_blanks_is_not_named(text: str) -> None:
    assert weak_signs(text, closes_negated) == ()


SIGNS_AS_A_LABEL_AND_A_FINDING = [  # none was read before
    ("Perianal sensation\tabsent", "perineal or perianal numbness"),
    ("Perianal sensation\tReduced", "perineal or perianal numbness"),
    ("Anal tone\tReduced", "loss of anal tone or rectal sensation"),
    ("Anal tone:  reduced.", "loss of anal tone or rectal sensation"),
    ("Sphincter tone:\tAbsent", "loss of anal tone or rectal sensation"),
    ("Saddle sensation:\treduced", "saddle anaesthesia"),
    # a form's question answered by the finding, after one blank too
    ("Anal tone? Absent", "loss of anal tone or rectal sensation"),
    ("Anal tone?  Absent", "loss of anal tone or rectal sensation"),
    ("Anal tone? Lax", "loss of anal tone or rectal sensation"),
    ("Saddle sensation?  Reduced", "saddle anaesthesia"),
    ("Perianal sensation?\tabsent", "perineal or perianal numbness"),
    ("Sphincter tone? Reduced", "loss of anal tone or rectal sensation"),
]


@pytest.mark.parametrize(("text", "sign"), SIGNS_AS_A_LABEL_AND_A_FINDING)
def test_a_sign_written_as_a_label_and_its_finding_is_read(text: str, sign: str) -> None:
    assert [named for _, named in suggested(text, closes_negated)] == [sign]


def test_beside_back_pain_it_warns_instead_of_reassuring() -> None:
    assert _topics(local_problem("Anal tone\tReduced")) == {"cauda-equina": "warning"}


@pytest.mark.parametrize("text", ["Anal tone\tNormal", "Anal tone?  Normal",
                                  "Saddle sensation:\tIntact", "Perianal sensation  normal"])
def test_a_normal_finding_names_nothing(text: str) -> None:
    assert suggested(text, closes_negated) == ()


# the independent review of the first version (which joined every value cell after a label):
# a row with two columns of values, a row that opens with its answer, a value running on
# into words kept their sign before and lost it; a question answered "No" in two columns,
# or a loss asked and answered no, gave a sign
SECOND_COLUMN_KEEPS_THE_SIGN = [
    "Urinary retention\tPresent\tNo", "Urinary retention:\tPresent\tAbsent",
    "Urinary retention\t\u2713\tNone", "Urinary retention\t+\tNo",
    "Symptom\tCurrent\tPrevious episode\nUrinary retention\tPresent\tNo",
    "Urinary retention\tNo\tYes", "Yes\tUrinary retention\tNo\tFever",
    "Urinary retention  Nil  else", "Urinary retention\tNegative\tdipstick",
    "Patient has urinary retention  Absent  ankle jerks",
    # the second review: a later column that is no bare answer ("Yes - catheterised", "-",
    # "Not recorded"), a label said in words
    "Urinary retention\tNo\tYes - catheterised", "Urinary retention\tNo\tYes (today)",
    "Urinary retention\tNo\t-\tYes", "Urinary retention\tNo\tNot recorded\tYes",
    "Urinary retention\tAbsent\tPresent (new)", "Urinary retention  No  Yes - since last night",
    "Urinary retention\tNo\tNo\tYes - new", "Reports urinary retention  No",
    "c/o urinary retention  Nil", "History of urinary retention  Denies",
    # the third review: a later column's capitalised answer with a colon or a time in it
    "Urinary retention\tNo\tYes - catheterised at 14:00", "Urinary retention\tNo\tYes: new",
    "Admission\t08:00\t14:00\nUrinary retention\tNo\tYes - catheterised at 14:30",
    "Urinary retention\tNo\tNotes: yes retention", "Urinary retention\tNo\tN/A:",
]


@pytest.mark.parametrize("text", SECOND_COLUMN_KEEPS_THE_SIGN)
def test_a_second_column_or_words_after_the_value_keep_the_sign(text: str) -> None:
    assert "urinary retention" in [sign for _, sign in suggested(text, closes_negated)]


@pytest.mark.parametrize("text", ["\tLeft\tRight\nFoot drop\tPresent\tAbsent",
                                  "Foot drop\tAbsent\tNormal\tFever",
                                  "Leg weakness\tPresent\tnone"])
def test_a_side_or_a_visits_column_keeps_the_neurological_sign(text: str) -> None:
    assert [topic.value for topic, _ in suggested(text, closes_negated)] == [
        "progressive-neurological-deficit"]


@pytest.mark.parametrize("text", ["Fever\tYes\tNo", "Fever?\tYes\tNo", "Night pain\tYes\tNone",
                                  "Unexplained weight loss\tPresent\tNo"])
def test_a_weak_red_flag_in_two_columns_is_named(text: str) -> None:
    assert weak_signs(text, closes_negated) != ()


@pytest.mark.parametrize("text", ["Urinary retention?\tNo\tNo", "Urinary retention?  No  No",
                                  "Urinary retention?\tNo\tAbsent", "Urinary retention\tNo\tNo",
                                  "Urinary retention:\tNegative\tNo"])
def test_a_question_answered_no_in_every_column_is_no_emergency(text: str) -> None:
    assert _topics(retention_row(text)) == {"conservative-care": "info"}


@pytest.mark.parametrize("text", ["Anal tone? Reduced - no", "Anal tone? reduced? no"])
def test_a_loss_asked_and_answered_no_is_none(text: str) -> None:
    assert suggested(text, closes_negated) == ()


@pytest.mark.parametrize(("value", "indicator"), [
    ("Urinary retention\tPresent\tNo", "critical"),
    ("Urinary retention:  Yes", "critical"), ("Urinary retention\tPresent", "critical"),
    # a value with more after it is split off as before: the label keeps its sign
    ("Urinary retention:  No, failed TWOC", "critical"),
    ("Urinary retention:  N/A", "critical"),
])
def test_a_coded_rows_label_not_answered_no_is_still_the_emergency(value: str,
                                                                   indicator: str) -> None:
    assert _topics(retention_row(value)) == {"cauda-equina": indicator}


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("blanks", "first", "count"), [
    (" " * 1_000_000, "Anal tone", 2), ("\t" * 1_000_000, "Anal tone", 2),
    (": " + " " * 1_000_000, "Anal tone:", 2),
    # a run of values ending in words ("Nox"): no value joins the label, each its own clause
    ("  No" * 250_000, "Anal tone", 250_001), ("\tReduced" * 125_000, "Anal tone", 125_001),
])
def test_a_megabyte_of_blanks_or_values_is_split_in_one_pass(blanks: str, first: str,
                                                             count: int) -> None:
    """A run of blanks is one cell break and a run of values is looked at once per label:
    the splitter stays linear (the worker's timeout as a liveness check)."""
    parts = list(parts_of("Anal tone" + blanks + "x"))
    assert (parts[0], len(parts)) == (first, count)
