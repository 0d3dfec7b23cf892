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
that the old reading took several minutes; it is longer than a call reads of one entry
(record/entry_words.ENTRY_WORDS_READ: set aside unread, test_words_past_the_limit), so
each reader is given it directly (every_reader).
"""

from __future__ import annotations

import pytest

from tests.unit.core.every_reader import topics_read

SIZE = 300_000  # characters: several minutes at the old cost per sign


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
    assert topics_read(text) == [t for t in topics if t != "conservative-care"]


@pytest.mark.timeout(30)
def test_a_sign_after_a_long_denied_list_keeps_its_card() -> None:
    """The same shape with a sign nothing denies at its end: the card is still given."""
    text = "no , or urinary retention , or " * (SIZE // 31) + ". New urinary retention"
    assert topics_read(text) == ["cauda-equina"]
