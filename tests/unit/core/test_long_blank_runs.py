"""A long run of blanks inside a value is read in one pass, so the call is answered.

The answer-word split (``negation._ANSWER_BREAK``, " - " between answers) tried every
start inside a run of blanks: "No Ca." + 100,000 spaces + "prostate" in a retention row's
valueString took about 9.5 s, and a 1 MB run would pass the worker timeout (30 s) and lose
every card (found by the thirteenth session's fifth review). Values up to the 8 MiB body
limit are accepted, so such a value must cost a pass, not a pass per character. The
timeout below is the worker's: a liveness check, not a speed target (the benchmarks
measure speed).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_rules.engine import HookRequest, evaluate
from cds_rules.record import negation
from tests.unit.core.every_reader import topics_read
from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT, with_back_pain

RUN = 1_000_000  # a megabyte of blanks: about 4 h at the old pass per start


def _retention(**value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "retention", "status": "final",
            "subject": SUBJECT, "effectiveDateTime": "2026-02-27T09:00:00Z",
            "code": {"coding": [{"system": SNOMED, "code": "267064002"}]}, **value}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("blank", [" ", "\t", "\n", " \t"], ids=["space", "tab", "newline",
                                                              "mixed"])
@pytest.mark.parametrize("value", [
    lambda run: {"valueString": f"No Ca.{run}prostate"},
    lambda run: {"valueString": f"Yes{run}"},
    lambda run: {"valueCodeableConcept": {"text": f"Present{run}- new"}},
    lambda run: {"component": [{"code": {"text": "Saddle sensation"},
                                "valueString": f"Normal{run}"}]},
], ids=["ca-row", "yes-then-blanks", "coded-value-text", "component"])
def test_a_megabyte_of_blanks_in_a_value_keeps_the_emergency(blank: str, value: Any) -> None:
    run = blank * (RUN // len(blank))
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(_retention(**value(run))))
    cards = evaluate(request, ACUTE_NOW).cards
    assert [(c.topic, c.indicator) for c in cards] == [("cauda-equina", "critical")]


_PLAIN = re.compile(r"[,;/]|\s+-\s+")  # the textbook form: the same splits, a pass per start


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=" \t\n-,;/ab", max_size=24))
def test_the_answer_split_is_the_plain_one(text: str) -> None:
    assert negation._ANSWER_BREAK.split(text) == _PLAIN.split(text)


def _note(text: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "note", "status": "final", "subject": SUBJECT,
            "effectiveDateTime": "2026-02-27T09:00:00Z", "code": {"text": "Clinic note"},
            "valueString": text}


# The twenty-eighth session's review: a sign's words, then a blank run, read with two blank
# quantifiers around an optional mark ("\s*[:-]?\s*"), or a blank run before a break tried
# from every blank: each split of the run tried (18 KB of blanks after "Rectal tone" passed
# the worker timeout; a megabyte, a day). The worker's timeout is the bound, as above.
@pytest.mark.timeout(60)
@pytest.mark.parametrize(("entry", "topic"), [
    (lambda run: _note(f"Rectal tone{run}x"), "conservative-care"),
    (lambda run: _note(f"saddle sensation{run}x"), "conservative-care"),
    (lambda run: _note(f"Fracture L1{run}x"), "fracture"),
    (lambda run: _note(f"Pulsating abdominal mass{run}x"), "visceral-or-vascular"),
    (lambda run: _note(f"Lhermitte's{run}x"), "spinal-cord-compression"),
    (lambda run: _note(f"Prostate ca{run}x"), "malignancy"),
    (lambda run: _note(f"LBP radiating to{run}x"), "conservative-care"),
    (lambda run: _retention(valueString=f"No type{run}x"), "cauda-equina"),
    (lambda run: _retention(valueString=f"No ca{run}x"), "cauda-equina"),
    (lambda run: _retention(valueString=f"No x{run}1"), "cauda-equina"),
    (lambda run: _retention(valueString=f"Urinary retention?{run}Yes"), "cauda-equina"),
], ids=["rectal-tone", "saddle-sensation", "fracture-level", "pulsating-mass", "lhermitte",
        "prostate-ca", "radiating-to", "no-type", "no-ca", "part-break", "question-then-yes"])
def test_a_megabyte_of_blanks_after_a_signs_words_is_read_in_one_pass(entry: Any,
                                                                      topic: str) -> None:
    """A note's words past what a call reads are set aside unread (ENTRY_WORDS_READ): each
    reader is given them directly; a coded row's are read by its codes and its answer."""
    resource = entry(" " * RUN)
    if resource["id"] == "note":
        assert topics_read(resource["valueString"]) == (
            [] if topic == "conservative-care" else [topic])
        return
    request = HookRequest(hook="patient-view", patient_id="p",
                          resources=with_back_pain(resource))
    assert [c.topic for c in evaluate(request, ACUTE_NOW).cards] == [topic]
