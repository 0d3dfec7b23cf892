"""Words past what a call reads: an entry's words over ENTRY_WORDS_READ characters, or past
the call's CALL_WORDS_READ, are not read, and the entry is named on every card.

The free-text readers are linear, but some repeated phrasings cost about 10 µs a character
on a loaded worker (the twenty-ninth session's liveness review: "no , or fever , or "
repeated, 1 MB 13 s), and a request body may be 8 MiB: one entry near the limit, or many
entries each under it, could pass the gunicorn worker's 30 s timeout and lose every card of
the call. An uncoded entry so long is set aside (its words are all it says): the cards that
would say "no red flag" ask for the chart to be checked and name it. A coded entry is read
by its codes alone (a coded urinary retention stays the critical card). The timeouts below
are the worker's: a liveness check, not a speed target.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_rules import HookRequest, evaluate, to_json
from cds_rules.record.entry_words import CALL_WORDS_READ, ENTRY_WORDS_READ
from tests.unit.core.local_entries import ACUTE_NOW, SNOMED, SUBJECT, local_problem, with_back_pain

_REPEATED = "no , or fever , or "  # the costliest phrasing the liveness review found


def _cards(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    request = HookRequest(hook="patient-view", patient_id="p", resources=with_back_pain(*entries))
    return to_json(evaluate(request, ACUTE_NOW).cards)


def _problem(text: str, index: int = 1) -> dict[str, Any]:
    return {**local_problem(text), "id": f"local-{index}"}


@pytest.mark.timeout(30)
def test_an_entry_of_a_megabyte_is_named_not_read() -> None:
    (card,) = _cards(_problem(_REPEATED * (1_000_000 // len(_REPEATED))))
    assert card["summary"].startswith("Check an unread Condition entry in the chart")
    assert "Reassure" not in card["detail"]
    assert ("1 entry not read because of the length of their words: longer than the service "
            "reads in one call") in card["detail"]


@pytest.mark.timeout(30)
def test_eight_entries_of_a_megabyte_are_answered() -> None:
    """Each set aside by its codes alone: its words are not read again to name it."""
    text = _REPEATED * (1_000_000 // len(_REPEATED))
    (card,) = _cards(*(_problem(text, index) for index in range(8)))
    assert "8 entries not read because of the length of their words" in card["detail"]


def test_words_up_to_the_limit_are_read() -> None:
    text = "New urinary retention. " + "x" * (ENTRY_WORDS_READ - 23)
    assert len(text) == ENTRY_WORDS_READ
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in _cards(_problem(text))] == [
        ("cauda-equina", "warning")]


def test_a_red_flag_past_the_limit_is_not_reassured_over() -> None:
    (card,) = _cards(_problem("New urinary retention. " + "x" * ENTRY_WORDS_READ))
    assert card["indicator"] == "info" and "Reassure" not in card["detail"]
    assert "`Condition/local-1`" in card["detail"]


@pytest.mark.timeout(30)
def test_the_calls_words_past_its_limit_are_named() -> None:
    """Entries each under the limit, together past the call's: the later ones are named."""
    size = ENTRY_WORDS_READ - 100
    count = CALL_WORDS_READ // size + 2
    entries = [_problem(_REPEATED * (size // len(_REPEATED)), index) for index in range(count)]
    cards = _cards(*entries, _problem("New urinary retention", count))
    details = " ".join(card["detail"] for card in cards)
    assert "entries not read because of the length of their words" in details
    assert "Reassure" not in details


def test_a_coded_red_flag_with_words_past_the_limit_stays_the_emergency() -> None:
    row = {"resourceType": "Observation", "id": "row", "status": "final", "subject": SUBJECT,
           "code": {"coding": [{"system": SNOMED, "code": "267064002"}]},
           "effectiveDateTime": "2026-02-28T09:00:00Z",
           "valueString": "Present. " + "x " * ENTRY_WORDS_READ}
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in _cards(row)] == [
        ("cauda-equina", "critical")]


def test_a_back_pain_whose_words_are_past_the_limit_is_named_not_reassured() -> None:
    """The second review: a back pain coded with words past the limit ("New urinary
    retention, PVR 900 ml. ...") gave "Reassure" (its codes name no red flag: its words may):
    set aside and named now."""
    entry = {"resourceType": "Observation", "id": "obs", "status": "final", "subject": SUBJECT,
             "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
             "effectiveDateTime": "2026-02-28T09:00:00Z",
             "valueString": "New urinary retention, PVR 900 ml. " + "x " * ENTRY_WORDS_READ}
    cards = _cards(entry)
    assert all("Reassure" not in card["detail"] for card in cards)
    assert any("`Observation/obs`" in card["detail"] for card in cards)
