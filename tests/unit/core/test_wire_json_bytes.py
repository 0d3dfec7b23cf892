"""``wire.to_json_bytes``, the hook response's serialiser: byte for byte what
``orjson.dumps(to_json(...))`` writes, with the JSON of the objects every card shares
(topic, source, links, override reasons) written once and spliced in (#15).

The splice is safe only if the spliced text is what the walk would write, and if no
object can change after its text was written: both are tested here, on every card the
core builds for the scenarios and the Synthea patients, and on random wire objects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fhir_samples
from benchmarks.inputs import synthea_files
from cds_rules import cards, evaluate, override_reasons, to_json, wire
from cds_rules.cards import topic_coding
from cds_rules.model import TOPIC_SYSTEM, Topic
from tests.conftest import SYNTHEA_DIR, require
from tests.unit.core.corpus import corpus_requests


def _written_json(obj: Any) -> bytes:
    return orjson.dumps(to_json(obj))


@pytest.fixture
def registry_restored() -> Iterator[None]:
    """What a test registers (random objects, a marker) is gone after it, and so are the
    card parts first built during it (their builders' caches are emptied: a part cached
    but no longer registered would be walked, not spliced)."""
    before = dict(wire._WRITTEN)
    try:
        yield
    finally:
        wire._WRITTEN.clear()
        wire._WRITTEN.update(before)
        for builder in (topic_coding, cards._card_source, cards._links):
            builder.cache_clear()


def _responses() -> list[tuple[str, wire.Response]]:
    answers = []
    for name, request, now in corpus_requests():
        result = evaluate(request, now)
        answers.append((name, wire.Response(cards=result.cards,
                                            system_actions=result.system_actions)))
    return answers


def test_every_answer_of_the_core_is_written_as_the_walk_writes_it() -> None:
    spliced = card_count = synthea = 0
    for name, response in _responses():
        assert wire.to_json_bytes(response) == _written_json(response), name
        synthea += "/" in name
        for card in response.cards:
            card_count += 1
            spliced += id(card.override_reasons) in wire._WRITTEN
            assert id(card.source.topic) in wire._WRITTEN, name
    assert card_count > 100 and spliced == card_count  # the splice was used, not walked around
    assert synthea == 3 * len(synthea_files())
    require(SYNTHEA_DIR.is_dir(), "../shared/data/synthea-r4")  # after: the scenarios ran


def test_a_card_under_the_shells_uuid_keeps_the_shared_parts() -> None:
    scenario = fhir_samples.load_all()[0]
    card = evaluate(scenario.hook_request(), scenario.now).cards[0]
    renamed = card.with_uuid(str(uuid.uuid4()))
    assert wire.to_json_bytes(renamed) == _written_json(renamed)
    assert orjson.loads(wire.to_json_bytes(renamed))["uuid"] == renamed.uuid


@pytest.mark.usefixtures("registry_restored")
def test_every_topic_coding_is_one_object_written_once() -> None:
    for topic in Topic:
        coding = topic_coding(topic)
        assert coding is topic_coding(topic)
        assert wire._WRITTEN[id(coding)][0] is coding
        assert orjson.dumps(wire._WRITTEN[id(coding)][1]) == _written_json(coding)
    assert id(override_reasons.codings()) in wire._WRITTEN


@dataclass
class _Unfrozen:
    code: str


def test_only_objects_frozen_all_the_way_down_are_written_once() -> None:
    resource = {"resourceType": "ServiceRequest", "status": "draft"}
    action = wire.Action(type="create", description="Order", resource=resource)
    unfrozen = _Unfrozen("a")
    for mutable in (action, (action,), [wire.Coding(code="a")], {"code": "a"}, unfrozen,
                    (wire.Coding(code="a"), unfrozen)):
        with pytest.raises(TypeError):
            wire.written_once(mutable)
    assert id(action) not in wire._WRITTEN and id(unfrozen) not in wire._WRITTEN


@pytest.mark.usefixtures("registry_restored")
def test_the_answer_splices_what_was_written_and_to_json_never_does() -> None:
    """A registered object's stored text is what the answer carries (a marker put in its
    place shows up), nested at any depth; ``to_json`` walks it as ever."""
    scenario = fhir_samples.load_all()[0]
    card = evaluate(scenario.hook_request(), scenario.now).cards[0]
    # the topic inside a source of its own, as minimal_card and fallback_card build it
    own_source = replace(card, source=wire.Source(label="backpain-cds",
                                                   topic=card.source.topic))
    for shared, holder in ((card.source, card), (card.override_reasons, card),
                           (card.links, card), (card.source.topic, own_source)):
        kept = wire._WRITTEN[id(shared)]
        wire._WRITTEN[id(shared)] = (shared, orjson.Fragment(b'"MARK"'))
        try:
            assert b'"MARK"' in wire.to_json_bytes(wire.Response(cards=(holder,)))
            assert b'"MARK"' not in orjson.dumps(to_json(wire.Response(cards=(holder,))))
        finally:
            wire._WRITTEN[id(shared)] = kept


def test_the_empty_tuple_is_never_written_once() -> None:
    assert wire.written_once(()) == ()
    assert id(()) not in wire._WRITTEN
    assert wire.to_json_bytes(wire.Response()) == b'{"cards":[]}'


_SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_OPTIONAL = st.none() | _SAFE_TEXT
_REASONS = st.builds(wire.Coding, system=_OPTIONAL, version=_OPTIONAL, code=_OPTIONAL,
                     display=_SAFE_TEXT, user_selected=st.none() | st.booleans())
_URLS = st.sampled_from(["https://a.example/x", "http://b.example/?q=\"1\"&r=\\",
                         "https://c.example/é"])
_LINKS = st.builds(wire.Link, label=_SAFE_TEXT, url=_URLS, type=st.just("absolute"))
_TOPICS = st.sampled_from(list(Topic)).map(
    lambda t: wire.Coding(system=TOPIC_SYSTEM, code=t.value, display=t.value))


@st.composite
def _cards(draw: st.DrawFn) -> wire.Card:
    """A card whose parts are, at random, registered (spliced) or not (walked)."""
    def maybe_written(value: Any) -> Any:
        return wire.written_once(value) if draw(st.booleans()) else value

    source = wire.Source(label=draw(_SAFE_TEXT), topic=maybe_written(draw(_TOPICS)),
                         url=draw(st.none() | _URLS))
    return wire.Card(
        uuid=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        summary=draw(_SAFE_TEXT), indicator=draw(st.sampled_from(wire.INDICATORS)),
        detail=draw(st.none() | _SAFE_TEXT), source=maybe_written(source),
        override_reasons=maybe_written(tuple(draw(st.lists(_REASONS, max_size=3)))),
        links=maybe_written(tuple(maybe_written(link)
                                  for link in draw(st.lists(_LINKS, max_size=3)))))


@pytest.mark.usefixtures("registry_restored")
@given(st.lists(_cards(), max_size=3, unique_by=lambda c: c.topic))
@settings(max_examples=150, deadline=None)
def test_random_cards_are_written_as_the_walk_writes_them(cards: list[wire.Card]) -> None:
    response = wire.Response(cards=tuple(cards))
    assert wire.to_json_bytes(response) == _written_json(response)
