"""A red flag named as safety-netting advice is not the patient's (UNCODED-* thirtieth
session, :mod:`cds_rules.safety_net`).

Every "advice" text below gave the uncoded cauda equina (or other) warning on the code before
(a false alarm on most back-pain notes once notes were read); every "sign" text is a guard
that must keep its warning (a missed red flag is worse than a false alarm), advice naming a
sign as its topic included.
"""

from __future__ import annotations

import pytest

from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested
from tests.unit.core.local_entries import ACUTE_NOW, cards_by_topic, local_problem

ADVICE = [
    "Advised to return urgently if urinary retention or saddle anaesthesia develop",
    "Advised to seek help if any new urinary retention, saddle anaesthesia or leg weakness",
    "Safety net: return if saddle anaesthesia, urinary retention, faecal incontinence",
    "If develops urinary retention attend ED",
    "If urinary retention develops, catheterise and refer",
    "Should saddle anaesthesia develop, attend ED",
    "Told to call 999 if sudden onset leg weakness",
]

SIGNS = [
    "Unsure if urinary retention",
    "Check if urinary retention",
    "Asked if saddle anaesthesia - yes",
    "Return if still retaining urine - urinary retention since 6am",
    "Return if the urinary retention worsens",
    "Has urinary retention, advised to attend if worse",
    "Advised re new urinary retention, sent to ED",
    "Discussed re urinary retention with urology",
    "Tamsulosin given for urinary retention",
    "MRI in case of cauda equina syndrome",
    "Admitted in case of cauda equina compression",
    "Reviewed: if urinary retention, would need catheter - currently in retention",
    "Urinary retention. Return if worse",
    "Saddle anaesthesia if sitting for long",
    "Not sure if saddle anaesthesia or buttock pain",
    # advice naming a sign as its topic: read as the sign (the seventh and eighth reviews
    # found every rule reading it as none silenced real ones: test_uncoded_ces_phrases.py)
    "Safety-netted re cauda equina symptoms",
    "Warned about cauda equina symptoms",
    "CES advice leaflet given",
]


@pytest.mark.parametrize("text", ADVICE)
def test_advice_names_no_sign_of_the_patient(text: str) -> None:
    assert suggested(text, closes_negated) == ()
    cards = cards_by_topic(local_problem(text), now=ACUTE_NOW)
    assert set(cards) == {"conservative-care"}


@pytest.mark.parametrize("text", SIGNS)
def test_a_sign_beside_advice_or_asked_about_stays_a_sign(text: str) -> None:
    assert suggested(text, closes_negated) != ()
    cards = cards_by_topic(local_problem(text), now=ACUTE_NOW)
    assert cards["cauda-equina"]["indicator"] == "warning"


@pytest.mark.timeout(30)  # the worker's timeout: a liveness check, not a speed target
@pytest.mark.parametrize(("unit", "read"), [
    ("if urinary retention ", True),  # a condition without advice: the sign stands
    ("return if any new or urinary retention ", False),
    ("advised to return if any new signs of urinary retention ", False)])
def test_the_advice_reading_is_linear_on_a_long_part(unit: str, read: bool) -> None:
    """Each sign's advice is searched in a bounded stretch before it (300 KB of repeated
    conditions and advice, several thousand signs in one part)."""
    text = unit * (300_000 // len(unit))
    assert bool(suggested(text, closes_negated)) is read
