"""Post-void residuals the twenty-eighth session's note listed as still not read (UNCODED-CES
1.18.0): a column's unit before the figure, a scan following voiding or a while after it, a
series' later volumes, a pair's post-void volume written with a slash or after a volume of
its own before voiding.

Before, beside coded back pain each gave "No red flag recorded" and "Reassure" over a
residual of 650 ml (CES_RESIDUAL_URINE_ML is 200 ml by default: Katzouraki 2020).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_rules.catalogue import RULES
from cds_rules.residual_urine import RESIDUAL_SIGN, Residual, residuals_in_words
from tests.unit.core.local_entries import (
    LOCAL,
    SUBJECT,
    cards_by_topic,
    local_problem,
)

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)

READ = [  # (words, the residuals read: (millilitres, comparator)); none was read before
    # a flowsheet's column: the unit in the name, the figure after it
    ("PVR (ml):  650", [(650, None)]), ("Post-void residual volume (mL): 650", [(650, None)]),
    ("PVR ml 650", [(650, None)]), ("PVR (cc): 450", [(450, None)]),
    ("PVR (mL)\t650", [(650, None)]), ("PVR (ml) at 1400 >400", [(400, ">")]),
    # (the review: a time or a year before the figure is none: the figure after it is read)
    ("PVR (ml) at 1400: 650", [(650, None)]), ("PVR (ml) (2024) 650", [(650, None)]),
    # a scan following voiding, or a while after it
    ("Bladder scan following void: 650ml", [(650, None)]),
    ("Bladder scan 30 min after PU: 650ml", [(650, None)]),
    ("Bladder scan following voiding 650", [(650, None)]),
    ("Bladder scan following PU: 650ml", [(650, None)]),
    # a series: its later volumes too (before: none, the ordinal or the count broke it)
    # (a series is one reading, its largest: counted as one, the readings' cap holds as
    # many names as before; the review found a five-day log lost its last day's 650 ml)
    ("PVR x2: 180ml and 650ml", [(650, None)]), ("PVR 1st 100ml, 2nd 650ml", [(650, None)]),
    ("PVR first 100ml then 650ml", [(650, None)]),
    ("PVR 1st scan 100ml, repeat 650ml", [(650, None)]),
    ("PVR 650ml and 700ml on repeat scan", [(700, None)]),
    # a pair's post-void volume: with a slash and one unit, after the pre-void volume's word
    ("Pre/post void 900/650 ml", [(650, None)]),
    ("Pre/post void residual (ml): 900/650", [(650, None)]),
    ("Bladder scan 100ml pre void and 650ml post void", [(650, None)]),
    ("Voided 150ml scan 650ml post void", [(650, None)]),
    ("Pre void 100ml and 650ml post void residual", [(650, None)]),
]

ALSO_LATER = [  # the first was read before; the series' later volume was not
    ("PVR 180ml, then 650ml", [(650, None)]),
    ("PVR 100ml, 2nd 650ml, 3rd 700ml", [(700, None)]),
    # the second review: a later volume with its time or what was done after it
    ("PVR 80ml, repeat 400ml after 2h", [(400, None)]),
    ("PVR 80ml, repeat 400ml at 16:00", [(400, None)]),
    ("PVR 100 ml, repeat scan 450 ml this pm", [(450, None)]),
    ("PVR 100ml, 450ml on rescan", [(450, None)]), ("PVR 100ml, 650 ml overnight", [(650, None)]),
    ("PVR 150ml, repeat 400 ml (bladder scan)", [(400, None)]),
    ("PVR 150ml, repeat 400 ml - catheterised", [(400, None)]),
]


@pytest.mark.parametrize(("text", "read"), READ + ALSO_LATER)
def test_a_residual_in_these_forms_is_read(text: str,
                                           read: list[tuple[float, str | None]]) -> None:
    assert residuals_in_words(text) == tuple(Residual(ml, c) for ml, c in read)


NOT_READ = [
    # a column's unit and a figure that is no volume: another unit, a time, a ratio, a
    # volume voided; a time after "at"
    "PVR ml/min 650", "Bladder scan: PVR (ml) was 650 WU", "PVR ml 650 voided",
    "Voided 150ml, PVR (ml): >650 L voided", "Echo: PVR ml 1st 12 WU",
    # a series' later volume voided, drunk or given
    "PVR 50ml, 650ml voided", "PVR 50 ml and 1000ml oral intake", "PVR 50ml, 650ml IV",
    "PVR 50 ml then 650 ml passed",
    # a pair with no unit, or in a plan; a volume voided or before voiding with nothing of
    # its own between
    "Pre/post void 900/650", "If pre/post void 900/650 ml", "Voided 650ml post void",
    "IV fluids 650 ml post void", "Pre-void 650 ml post void",
    # the review of the first version: a time or a year taken for the figure after a
    # column's unit, a later volume that is no residual (before voiding, passed, output,
    # given, a capacity), the volume voided before a scan's own residual
    "PVR (ml) at 1400: 50", "Post-void residual volume (mL) at 2200: 120",
    "PVR (ml) (2024) 50", "PVR (ml) 2024: 50", "PVR 50 ml, 600 ml before voiding",
    "Post void residual 30ml & 450ml pre-void", "Bladder scan: PVR 80ml, and 450ml pre-void",
    "PVR 120ml and 400ml urine passed", "PVR 80 ml and 1500 ml urine output today",
    "PVR 50ml and 500ml water drunk", "PVR 50ml, 2000ml bolus",
    "PVR 60ml, then 1000ml Hartmann's", "PVR 50ml, 650ml expected bladder capacity",
    "Bladder scan 30 min after PU 450ml: 40ml", "Bladder scan following voiding of 400ml: 50ml",
    "Bladder scan following void 400 ml: residual 50 ml", "PVR 50ml, 600ml (pre-void)",
    "PVR 50 ml, 600 ml at home voided",
    # the third review: a later volume's time, then what it was (voided, given, pre-void)
    "PVR 50ml, 600ml at 14:00 pre-void", "PVR 50ml, 600ml at 14:00 voided",
    "PVR 50ml, 1500ml today input", "PVR 50ml, 700ml overnight output",
    "PVR 50 ml, 600ml after 1L IV", "PVR 50ml, 600ml (bladder scan before void)",
    "PVR 50ml, 600ml later voided", "PVR 50ml, 800ml at 08:00 fluids",
]


@pytest.mark.parametrize("text", NOT_READ)
def test_a_volume_voided_given_or_in_another_unit_is_no_residual_reaching_200_ml(
        text: str) -> None:
    assert [r for r in residuals_in_words(text) if r.reaches(200)] == []


def _cards(*entries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cards_by_topic(*entries, now=NOW)


@pytest.mark.parametrize("text", ["PVR (ml):  650", "PVR x2: 180ml and 650ml",
                                  "Bladder scan following void: 650ml",
                                  "Pre/post void 900/650 ml"])
def test_beside_back_pain_it_warns_instead_of_reassuring(text: str) -> None:
    cards = _cards(local_problem(text))
    assert "conservative-care" not in cards
    card = cards["cauda-equina"]
    assert (card["indicator"], card["summary"]) == (
        "warning", f"Check the record: uncoded entry suggests {RESIDUAL_SIGN}")
    rule = next(r for r in RULES if r.id == "UNCODED-CES")
    assert "1.18.0: more residuals read: a column's unit" in rule.changes
    assert f"_Rule UNCODED-CES v{rule.version}._" in card["detail"]


def test_a_series_below_the_threshold_warns_of_nothing() -> None:
    assert "cauda-equina" not in _cards(local_problem("PVR x2: 80ml and 50ml"))


def test_a_series_under_a_residuals_code_is_read() -> None:
    """The review of the first version: a residual's code valued "650 ml, 700 ml" gave
    "No red flag recorded" (the words under a code are read when they hold one reading; the
    first version read the series as two)."""
    pvr = {"resourceType": "Observation", "id": "pvr", "status": "final", "subject": SUBJECT,
           "effectiveDateTime": "2026-02-28T09:00:00Z", "valueString": "650 ml, 700 ml",
           "code": {"coding": [{"system": LOCAL, "code": "bs-pvr",
                                "display": "Post void residual"}]}}
    assert _cards(pvr)["cauda-equina"]["indicator"] == "warning"


def test_a_long_log_keeps_its_last_days_residual() -> None:
    """The review: series of small volumes filled the readings' cap before Friday's."""
    days = "".join(f"{day}: PVR 100ml, 120ml, 90ml, 80ml, 110ml.\n"
                   for day in ("Mon", "Tue", "Wed", "Thu"))
    assert max(residuals_in_words(days + "Fri: PVR 650ml.")) == Residual(650.0)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("unit", ["PVR (ml) ", "PVR 1st ", "PVR x2: ", "pre/post void ",
                                  "Pre/post void residual ", "100ml pre void and ",
                                  "Voided 150ml scan ", "PVR              ml            "])
def test_a_megabyte_of_these_forms_is_read_in_one_pass(unit: str) -> None:
    """A liveness check at the worker's timeout (30 s), not a speed target: each new form's
    words repeated over a megabyte (about a second each on this machine)."""
    text = unit * (1_000_000 // len(unit)) + "PVR 650 ml"
    assert Residual(650.0) in residuals_in_words(text)
