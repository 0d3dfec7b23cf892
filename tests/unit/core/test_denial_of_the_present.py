"""A denial followed by a word of the present denies its sign (every rule, thirtieth session).

Before, any word after a denied sign but "noted", "seen" ... kept the sign, so a coded
urinary retention row valued "No urinary retention today" gave the critical cauda equina
card (a false emergency), and a note or problem so worded the uncoded warning. Each "denies"
case failed on the code before; the "keeps" cases are guards (a past or bounded time: the
state may have changed since).
"""

from __future__ import annotations

import pytest

from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import ACUTE_NOW, cards_by_topic, local_problem, retention_row

DENIES = ["No urinary retention today", "Denies urinary retention currently",
          "No urinary retention at present", "No urinary retention at all",
          "No urinary retention now", "Denies urinary retention at present"]
KEEPS = ["No urinary retention until today", "No urinary retention overnight",
         "No urinary retention on admission", "No urinary retention at 14:00",
         "No urinary retention post-op", "No urinary retention today, PVR 900 ml",
         # a word of the present beside one that asserts: there now (a review found the
         # first version denied these)
         "No previous urinary retention now present",
         "Previously no urinary retention now present",
         "No urinary retention at all: present", "No urinary retention noted today"]
NOW_THERE = ["On admission no saddle anaesthesia now present", "Earlier no leg weakness now noted",
             "Prior MRI no metastases now seen", "Initially no AAA now seen",
             "Yesterday no faecal incontinence now reported"]


@pytest.mark.parametrize("value", DENIES)
def test_a_coded_row_denied_now_gives_no_emergency(value: str) -> None:
    cards = cards_by_topic(retention_row(value), now=ACUTE_NOW)
    assert set(cards) == {"conservative-care"}


@pytest.mark.parametrize("text", DENIES[:5])
def test_words_denying_a_sign_now_name_none(text: str) -> None:
    assert suggested(text, closes_negated) == ()
    assert set(cards_by_topic(local_problem(text), now=ACUTE_NOW)) == {"conservative-care"}


@pytest.mark.parametrize("value", KEEPS)
def test_a_denial_bounded_in_time_keeps_the_coded_sign(value: str) -> None:
    cards = cards_by_topic(retention_row(value), now=ACUTE_NOW)
    assert cards["cauda-equina"]["indicator"] == "critical"


@pytest.mark.parametrize("text", NOW_THERE)
def test_a_sign_denied_before_and_there_now_is_read(text: str) -> None:
    assert suggested(text, closes_negated) != ()
    cards = cards_by_topic(local_problem(text), now=ACUTE_NOW)
    assert "conservative-care" not in cards
