"""The uncoded reader's lookups, found once per part of a sentence, answer exactly what a
rescan of the part answers (the rescans they replaced: a clause of 20,000 characters naming
a sign hundreds of times took 1-2.5 s, ninth independent review); and a long clause is read
as its short form is."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_rules import uncoded_reading as reading
from cds_rules.model import Topic
from cds_rules.record.negation import closes_negated
from cds_rules.uncoded import suggested

# Words and marks the reader's lookups turn on, and signs, so that generated parts hit them
_TOKENS = ["no", "not", "No", "without", "denies", "or", "nor", "and", ",", ", or", ":", "-",
           " ", "?", "family history of", "screening for", "no longer", "does not have",
           "has not had", "never", "n't", "noted", "present", "absent", "positive", "on MRI",
           "600ml", "evidence of", "any", "signs of", "syndrome", "saddle anaesthesia",
           "urinary retention", "foot drop", "cancer", "basal cell", "skin cancer", "except",
           ";", "x", "s", "1", "seen", "ct", "'", "\u00a0", "\t", "FHx", "FH:", "screen",
           "resolved", "(stress)", "PMH/"]
_PART = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=30).flatmap(
    lambda tokens: st.lists(st.sampled_from(["", " ", "  ", ","]), min_size=len(tokens),
                            max_size=len(tokens)).map(
        lambda seps: "".join(t + s for t, s in zip(tokens, seps, strict=True))))
_SETTINGS = settings(max_examples=400, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


def _cuts(text: str) -> range:
    return range(len(text) + 1)


@_SETTINGS
@given(_PART)
def test_last_cue_before_is_the_last_cue_of_the_part_cut_there(text: str) -> None:
    part = reading.Part(text)
    for at in _cuts(text):
        cues = list(reading._DENIAL_CUE.finditer(text, 0, at))
        found = part.last_cue_before(at)
        assert (found.span() if found else None) == (cues[-1].span() if cues else None)


@_SETTINGS
@given(_PART)
def test_item_end_result_and_assertion_after_are_read_as_from_a_rescan(text: str) -> None:
    part = reading.Part(text)
    for at in _cuts(text):
        rest = text[at:]
        assert part.item_end(at) == at + len(reading._TAIL_END.split(rest, maxsplit=1)[0])
        assert part.result_after(at) == bool(reading._RESULT.search(rest))
        assert part.asserted_after(at) == any(
            w.lower() in reading._ASSERTED for w in reading._WORD.findall(rest))


@_SETTINGS
@given(_PART, st.integers(min_value=0, max_value=70))
def test_negated_before_reads_a_window_as_the_whole_part(text: str, spaces: int) -> None:
    text = "not" + " " * spaces + text  # a long run of spaces after the negation
    for at in _cuts(text):
        assert reading._negated_before(text, at) == bool(
            reading._NEGATED_CUE.search(text, 0, at))


@_SETTINGS
@given(_PART)
def test_a_list_carries_a_denial_as_its_split_words_do(text: str) -> None:
    part = reading.Part(text)
    for cue in reading._DENIAL_CUE.finditer(text):
        listed = part.list_after(cue)
        for at in range(cue.end(), len(text) + 1):
            between = text[cue.end():at].lstrip()
            carried = listed.carries_to(at)
            if carried is not None:
                assert carried == reading._split_carries(between), (text, at)
            assert listed.has_comma(at) == ("," in between)
            assert listed.after_last_comma(at) == between[between.rfind(",") + 1:]


def test_the_list_after_a_cue_is_split_where_a_comma_runs_through_its_first_word() -> None:
    text = "No , saddle anaesthesia or urinary retention"
    cue = next(reading._DENIAL_CUE.finditer(text))
    listed = reading.Part(text).list_after(cue)
    at = text.index("urinary")
    assert listed.carries_to(at) == reading._split_carries(text[cue.end():at].lstrip())


@pytest.mark.parametrize(("text", "expected"), [
    ("No saddle anaesthesia, " * 800, set()),
    ("No " + "saddle anaesthesia or " * 800 + "urinary retention", set()),
    ("No " + "saddle anaesthesia or " * 800 + "urinary retention since Monday",
     {Topic.CAUDA_EQUINA}),
    ("Family history of breast cancer, " * 600, set()),
    ("No saddle anaesthesia, " * 800 + "urinary retention", {Topic.CAUDA_EQUINA}),
    ("Urinary retention: no, " * 800 + "foot drop", {Topic.PROGRESSIVE_NEUROLOGICAL_DEFICIT}),
])
def test_a_clause_of_hundreds_of_signs_is_read_as_its_short_form(
        text: str, expected: set[Topic]) -> None:
    assert {topic for topic, _ in suggested(text, closes_negated)} == expected

