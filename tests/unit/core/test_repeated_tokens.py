"""A clinical text that repeats a few tokens thousands of times is read in one pass, so
the call is answered.

The uncoded reader (:mod:`cds_rules.uncoded_reading`) looked up, for every sign or denial,
something in the rest of the text: a new search of the item breaks after a cue whose first
word a break ran through ("no , or fever , or " repeated: 100 KB took 25 s), a copy of the
rest after a sign ending inside a word ("FHx of carcinomas ": 17.5 s) or cut inside a word
("urinary retention/ or " after "no fever, "), a search for the comma before or after each
sign. Each is quadratic in the length of the text; values up to the 8 MiB body limit are
accepted, and the gunicorn worker is killed after 30 s, losing every card for that
clinician. The lookups are now found once per text; the timeout below is the worker's: a
liveness check, not a speed target (the benchmarks measure speed). Each text is sized so
that the old reading took several minutes.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules.engine import HookRequest, evaluate
from tests.unit.core.local_entries import ACUTE_NOW, SUBJECT, with_back_pain

SIZE = 300_000  # characters: several minutes at the old cost per sign


def _note(text: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "note", "status": "final", "subject": SUBJECT,
            "effectiveDateTime": "2026-02-27T09:00:00Z", "code": {"text": "Clinic note"},
            "valueString": text}


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("head", "unit", "topics"), [
    ("", "no , or fever , or ", ["conservative-care"]),
    ("", "no , or urinary retention , or ", ["conservative-care"]),
    ("", "FHx of carcinomas ", ["conservative-care"]),
    ("no fever, ", "urinary retention/ or ", ["cauda-equina"]),
    ("no fever, ", "fever/ or ", ["conservative-care"]),
], ids=["break-through-cue-fever", "break-through-cue-retention", "sign-ends-in-a-word",
        "word-cut-after-sign", "weak-sign-word-cut"])
def test_a_repeated_token_is_read_in_one_pass(head: str, unit: str, topics: list[str]) -> None:
    text = head + unit * (SIZE // len(unit))
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(_note(text)))
    assert [c.topic for c in evaluate(request, ACUTE_NOW).cards] == topics


@pytest.mark.timeout(30)
def test_a_sign_after_a_long_denied_list_keeps_its_card() -> None:
    """The same shape with a sign nothing denies at its end: the card is still given."""
    text = "no , or urinary retention , or " * (SIZE // 31) + ". New urinary retention"
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(_note(text)))
    assert [(c.topic, c.indicator) for c in evaluate(request, ACUTE_NOW).cards] == [
        ("cauda-equina", "warning")]
