"""A lone UTF-16 surrogate in the sent text costs a character, never the cards.

EHRs that cut a note at a fixed number of UTF-16 units through an emoji send the first
half of a surrogate pair alone, as the JSON escape ``"\\ud83d"`` (RFC 8259 section 8.2
allows it; orjson refuses it). Before, such a body was refused with a 400, so one broken
character in a note lost every card, the critical ones included; in process, an entry
whose read text held one was dropped as invalid, so a red flag coded in it was lost and
the patient could be told "conservative care". Now the character reads as U+FFFD, the
cards are the same, and every card says a word may be garbled.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fhir_samples
from cds_rules import RuleSettings, evaluate, mended_text_gap, to_json
from cds_rules.call import Evaluation, HookRequest
from fhir_samples import Scenario
from service.errors import ServiceError
from service.jsonbody import loads_mending, mend_lone_surrogates, parse_json_mending
from tests.helpers import SERVICE_OF_HOOK, make_test_app

SCENARIOS = fhir_samples.load_all()
WITH_CARDS = [s for s in SCENARIOS if s.expected]
HALF_AN_EMOJI = "\ud83d"  # the high half of U+1F600, as a note cut through it leaves it
TEXT_ELEMENTS = frozenset({"display", "text", "valueString", "description"})
GAP = "shown as \ufffd): a word in an entry may be garbled"  # whatever the count


def _cut(value: Any) -> Any:
    """``value`` with half an emoji after every text a reader shows or reads words in."""
    if isinstance(value, dict):
        return {k: f"{v} {HALF_AN_EMOJI}" if k in TEXT_ELEMENTS and isinstance(v, str)
                else _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return value


def _texts_cut(value: Any) -> int:
    """How many texts :func:`_cut` cut in ``value``."""
    if isinstance(value, dict):
        return sum(1 if k in TEXT_ELEMENTS and isinstance(v, str) else _texts_cut(v)
                   for k, v in value.items())
    if isinstance(value, list):
        return sum(_texts_cut(v) for v in value)
    return 0


def _pairs(cards: list[dict[str, Any]]) -> frozenset[tuple[str, str]]:
    return frozenset((c["source"]["topic"]["code"], c["indicator"]) for c in cards)


def _wire_body(body: dict[str, Any]) -> bytes:
    """The body as an EHR writes it: ASCII JSON, the lone surrogates as escapes."""
    text = json.dumps(body, ensure_ascii=True)
    assert "\\ud83d" in text
    return text.encode("ascii")


# --- over HTTP: the body is read, the cards are the scenario's, each says so

@pytest.mark.parametrize("scenario", WITH_CARDS, ids=[s.id for s in WITH_CARDS])
def test_a_cut_emoji_in_every_text_keeps_the_cards_over_http(scenario: Scenario) -> None:
    body = scenario.request_body()
    body["prefetch"] = _cut(body["prefetch"])
    body["context"] = _cut(body["context"])
    app = make_test_app(clock=lambda: scenario.now)
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                                      data=_wire_body(body), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    cards = response.get_json()["cards"]
    assert _pairs(cards) == scenario.expected
    assert all(GAP in card["detail"] for card in cards)


def test_the_count_is_of_the_broken_characters_in_the_body() -> None:
    scenario = fhir_samples.load("ces-urinary-retention-snomed-observation")
    body = scenario.request_body()
    body["prefetch"] = _cut(body["prefetch"])
    cut = _texts_cut(body["prefetch"])
    app = make_test_app(clock=lambda: scenario.now)
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                                      data=_wire_body(body), content_type="application/json")
    (card,) = response.get_json()["cards"]
    assert card["indicator"] == "critical"
    assert mended_text_gap(cut) in card["detail"]
    assert cut > 1 and mended_text_gap(1) not in card["detail"]


def test_a_well_formed_body_carries_no_such_note() -> None:
    scenario = fhir_samples.load("ces-urinary-retention-snomed-observation")
    app = make_test_app(clock=lambda: scenario.now)
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                                      json=scenario.request_body())
    (card,) = response.get_json()["cards"]
    assert GAP not in card["detail"]


def test_a_body_malformed_otherwise_is_still_400_at_the_same_place() -> None:
    """The error names the place in the text as sent (a mended escape keeps its length)."""
    client = make_test_app().test_client()

    def diagnostics(escape: bytes) -> str:
        response = client.post("/cds-services/back-pain-patient-view",
                               data=b'{"hook": "patient-view' + escape + b'", "x": }',
                               content_type="application/json")
        assert response.status_code == 400
        return str(response.get_json()["issue"][0]["diagnostics"])

    assert diagnostics(b"\\ud800") == diagnostics(b"\\u00e9")
    assert "column 37 (char 36)" in diagnostics(b"\\ud800")


# --- in process: a caller's str holding a lone surrogate

def _in_process(scenario: Scenario) -> tuple[HookRequest, Evaluation]:
    request = scenario.hook_request()
    cut = HookRequest(hook=request.hook, patient_id=request.patient_id,
                      resources=tuple(_cut(list(request.resources))),
                      draft_orders=tuple(_cut(list(request.draft_orders))),
                      selections=request.selections, encounter_id=request.encounter_id)
    return cut, evaluate(cut, scenario.now, RuleSettings())


@pytest.mark.parametrize("scenario", WITH_CARDS, ids=[s.id for s in WITH_CARDS])
def test_a_lone_surrogate_in_every_text_keeps_the_cards_in_process(scenario: Scenario) -> None:
    _, evaluation = _in_process(scenario)
    assert frozenset((c.topic, c.indicator) for c in evaluation.cards) == scenario.expected
    assert evaluation.replaced == []  # every card built in full, none replaced
    written = orjson.dumps(to_json(evaluation.cards))  # no lone surrogate left to refuse
    for card in orjson.loads(written):
        assert GAP in card["detail"]


def test_the_entry_is_read_not_dropped() -> None:
    scenario = fhir_samples.load("ces-urinary-retention-snomed-observation")
    request, evaluation = _in_process(scenario)
    assert evaluation.quality.skipped_invalid == 0
    assert evaluation.quality.resources_used == len(request.resources)
    (fact,) = [f for f in evaluation.findings[0].facts if f.concept == "urinary_retention"]
    assert fact.display == "Retention of urine \ufffd"


# --- the mending itself, against a reference

def _escaped(text: str, upper: bool) -> str:
    """``text`` as a JSON string literal: surrogates (and quotes, backslashes) escaped,
    everything else written as it is."""
    out = []
    for char in text:
        if "\ud800" <= char <= "\udfff":
            out.append(f"\\u{ord(char):04X}" if upper else f"\\u{ord(char):04x}")
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _as_unicode(text: str) -> str:
    """The reference: pairs joined into their character, each lone surrogate U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


_PIECES = st.sampled_from(["a", "é", "u", "d8", "00", "\\", '"', "\\u", "\ud800", "\udbff",
                           "\udc00", "\udfff", "\ud83d", "\ude00", "\U0001f600", ":"])
_TEXTS = st.lists(_PIECES, max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(key=_TEXTS, value=_TEXTS, upper=st.booleans())
def test_mending_reads_every_text_as_its_unicode(key: str, value: str, upper: bool) -> None:
    body = ("{" + _escaped(key, upper) + ": [" + _escaped(value, upper) + "]}").encode()
    parsed, mended = loads_mending(body)
    assert parsed == {_as_unicode(key): [_as_unicode(value)]}
    assert mended == (_as_unicode(key) + _as_unicode(value)).count("\ufffd")


@pytest.mark.parametrize(("raw", "value", "count"), [
    (b'"\\ud83d\\ude00"', "\U0001f600", 0),  # a pair: one character
    (b'"\\ud83d"', "\ufffd", 1),  # a high half alone
    (b'"\\ude00"', "\ufffd", 1),  # a low half alone
    (b'"\\ud83d\\ud83d\\ude00"', "\ufffd\U0001f600", 1),  # a high half, then a pair
    (b'"\\ud83dA"', "\ufffdA", 1),
    (b'"\\ud83d\\u0041"', "\ufffdA", 1),
    (b'"\\\\ud83d"', "\\ud83d", 0),  # an escaped backslash, then letters
    (b'"\\\\\\ud83d"', "\\\ufffd", 1),  # an escaped backslash, then the escape
    (b'"\\uD83D\\uDE00 \\uDBFF"', "\U0001f600 \ufffd", 1),
])
def test_mending_cases(raw: bytes, value: str, count: int) -> None:
    assert loads_mending(raw) == (value, count)


def test_mending_keeps_every_other_byte() -> None:
    raw = b'{"a": "x\\ud800y", "b": "\\\\ud800", "c": "\\ud83d\\ude00"}'
    mended, count = mend_lone_surrogates(raw)
    assert (mended, count) == (raw.replace(b"x\\ud800y", b"x\\ufffdy"), 1)
    assert mend_lone_surrogates(b'{"a": "\\u00e9"}') == (b'{"a": "\\u00e9"}', 0)


def test_keys_mended_alike_are_a_repeated_key() -> None:
    with pytest.raises(ServiceError) as refused:
        parse_json_mending(b'{"\\ud800": 1, "\\udfff": 2}', 64)
    assert refused.value.status == 400
    assert parse_json_mending(b'{"\\ud800": 1, "b": 2}', 64) == ({"\ufffd": 1, "b": 2}, 1)
