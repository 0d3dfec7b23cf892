"""Post-void residuals the twenty-sixth session's note listed as still not read (UNCODED-CES
1.17.0): the post-void volume of a pre- and post-void pair, a volume written before its
name, a bladder scan "after voiding", a thousands blank, a bound with what was done.

Before, beside coded back pain each gave "No red flag recorded" and "Reassure" over a
residual of 650 ml or more (CES_RESIDUAL_URINE_ML is 200 ml by default: Katzouraki 2020).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules.catalogue import RULES
from cds_rules.residual_urine import RESIDUAL_SIGN, Residual, residuals_in_words
from tests.unit.core.local_entries import cards_by_topic, local_problem

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

READ = [  # (words, the residuals read: (millilitres, comparator))
    # the second of a pre- and post-void pair is the post-void one
    ("Pre and post void residual 900ml and 650ml", [(650, None)]),
    ("Pre & post void residual 850ml/60ml", [(60, None)]),
    ("Bladder scan pre and post void: 900ml and 50ml", [(50, None)]),
    ("Bladder scan pre/post void 900ml/50ml", [(50, None)]),
    ("Pre and post void scan: 900ml, 100ml", [(100, None)]),
    # a volume before its name
    ("Bladder scan 650 ml post void", [(650, None)]),
    ("Bladder scan: 650ml residual", [(650, None)]),
    ("Bladder scan: 650 mls (post void)", [(650, None)]),
    ("Retained 800ml after PU", [(800, None)]),
    ("Pre-void 650 ml post void residual 40 ml", [(40, None)]),  # the name's own volume
    # a bladder scan after voiding, a thousands blank
    ("Bladder scan after voiding 650 ml", [(650, None)]),
    ("Bladder scanned after PU: 800 ml", [(800, None)]),
    ("PVR 1 200 ml", [(1200, None)]),
    # a bound with what was done: measured, not a plan
    ("Catheterised for PVR >400 ml", [(400, ">")]),
    ("Bladder scan with PVR >500 ml", [(500, ">")]),
    ("PVR > 500 ml: catheter inserted", [(500, ">")]),
    ("PVR >500ml, catheterised", [(500, ">")]),
    ("Bladder scan > 500 ml post void: catheterised", [(500, ">")]),
    ("250ml PVR on bladder scan", [(250, None)]),
    # a form's question answered by the volume, after blanks too
    ("Post void residual?  650 ml", [(650, None)]), ("PVR?  250ml", [(250, None)]),
    # the independent review of the first version: an action after a dash is no plan over
    # a measurement (the first version lost these: "Reassure")
    ("PVR >400 ml - MRI requested", [(400, ">")]),
    ("Bladder scan: PVR >400ml - catheterise and refer", [(400, ">")]),
    # the third review: the second version's mends lost these (a scan's word required before
    # the volume, a voided volume after a comma, a plan after what was done)
    ("650ml post void residual", [(650, None)]), ("650 ml residual on bladder scan", [(650, None)]),
    ("BS 650ml post void", [(650, None)]), ("TWOC failed, 800ml residual", [(800, None)]),
    ("In/out catheter: 900ml residual", [(900, None)]),
    ("Bladder scan performed by nursing staff at 14:00: 650ml post void", [(650, None)]),
    ("Bladder scan 650 ml post void, passed 100 ml", [(650, None)]),
    ("Bladder scan 650ml residual, pre-void 900ml", [(650, None)]),
    ("Pre/post void 980ml/650ml passed 50ml", [(650, None)]),
    ("Catheterised for PVR >400ml: 1100ml drained", [(400, ">")]),
    ("Bladder scan with PVR >500ml: MRI requested", [(500, ">")]),
    ("Retention noted with PVR > 400 ml", [(400, ">")]),
    ("PVR >400 ml: MRI requested", [(400, ">")]),
]


@pytest.mark.parametrize(("text", "read"), READ)
def test_a_residual_in_these_forms_is_read(text: str,
                                           read: list[tuple[float, str | None]]) -> None:
    assert residuals_in_words(text) == tuple(Residual(ml, c) for ml, c in read)


NOT_READ = [
    # a volume voided, given or before voiding; a bare residual with nothing of a bladder
    "Voided 650 ml after PU", "IV fluids 1000 ml post void", "Pre-void 650 ml post void",
    "650 ml residual", "Echo: 650 ml residual",
    # a plan: a condition, a plan's words, a plan after a dash
    "If >200 ml residual, catheterise", "Catheterise for PVR >200 ml",
    "Bladder scan; in/out catheter for residual > 500 ml", "MRI needed with PVR >200 ml",
    "PVR >200 ml = catheterise", "PVR > 200 ml: catheterise", "If PVR > 200 ml, catheterise",
    # the review: a plan beside what was done, a protocol, another fluid or a volume voided,
    # drunk or before voiding, numbers joined by a blank
    "Bladder scan done, catheterise for PVR >250ml",
    "Bladder scan noted, catheterise for residual > 250ml",
    "Scan done - in/out catheter for PVR > 250ml",
    "Nurse confirmed plan for PVR >250ml: catheterise",
    "Protocol: PVR > 250ml - referred to urology", "Pathway: PVR >250ml - admitted",
    "Water 250ml after PU", "Tea 250ml after voiding", "Flush 250ml post void",
    "Blood loss 250ml post void", "250ml after PU voided",
    "Bladder scan: 650 ml residual pre-void",
    "Bladder scan 650ml residual before voiding, 100ml after",
    "Denies urinary retention. Irrigation 250ml residual", "Wound drain 250ml residual",
    "Pre and post void residual 990ml and 250ml voided", "PVR at 10 150 ml",
    "PVRs: 3 150ml each", "Nurse confirmed plan for PVR >250ml: catheterise",
]


@pytest.mark.parametrize("blanks", [" ", "\t", "\n"])
def test_a_bound_before_a_megabyte_of_blanks_is_read_in_linear_time(blanks: str) -> None:
    """The review: the words of what was done after a bound ("PVR >400 ml: catheter
    inserted") were looked for from every blank of a run: 20,000 blanks took 21 s."""
    started = time.monotonic()
    residuals_in_words("PVR >400 ml" + blanks * 1_000_000 + "x")
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("text", NOT_READ)
def test_a_volume_voided_given_or_planned_is_not_a_residual_reaching_200_ml(text: str) -> None:
    assert [r for r in residuals_in_words(text) if r.reaches(200)] == []


def _cards(*entries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cards_by_topic(*entries, now=NOW)


@pytest.mark.parametrize("text", ["Pre and post void residual 900ml and 650ml",
                                  "Bladder scan: 650ml residual", "Catheterised for PVR >400 ml"])
def test_beside_back_pain_it_warns_instead_of_reassuring(text: str) -> None:
    cards = _cards(local_problem(text))
    assert "conservative-care" not in cards
    card = cards["cauda-equina"]
    assert (card["indicator"], card["summary"]) == (
        "warning", f"Check the record: uncoded entry suggests {RESIDUAL_SIGN}")
    version = next(r.version for r in RULES if r.id == "UNCODED-CES")
    assert version == "1.19.1"
    assert f"_Rule UNCODED-CES v{version}._" in card["detail"]


def test_a_pairs_small_post_void_volume_reassures_nothing_and_warns_of_nothing() -> None:
    """"Pre & post void residual 850ml/60ml": the 850 is the bladder before voiding."""
    assert "cauda-equina" not in _cards(local_problem("Pre & post void residual 850ml/60ml"))
