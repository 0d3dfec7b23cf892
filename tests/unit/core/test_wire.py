"""The typed CDS Hooks wire objects: a card that breaks a rule of CDS_HOOKS.md cannot be
built, the error names the field but never the value, and ``to_json`` writes
exactly the JSON the spec wants (declaration order, camelCase, nothing empty)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_rules import TOPIC_SYSTEM, to_json, wire

SECRET = "Patient pat-secret-42"  # a value that must never reach an error message
DRAFT = {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal"}


def good_card(**changes: Any) -> wire.Card:
    card = wire.Card(
        uuid=str(uuid.uuid4()), summary="MRI not indicated yet", indicator="warning",
        detail="**Why**", source=wire.Source(label="backpain-cds", topic=wire.Coding(
            system=TOPIC_SYSTEM, code="imaging-not-indicated", display="Imaging")),
        override_reasons=(wire.Coding(system="https://x.org", code="a", display="A"),),
        links=(wire.Link(label="ACP", url="https://www.acponline.org/", type="absolute"),),
        suggestions=(wire.Suggestion(uuid=str(uuid.uuid4()), label="Physiotherapy",
                                actions=(wire.Action(type="create", description="Refer",
                                                resource=DRAFT),),
                                is_recommended=True),),
        selection_behavior="at-most-one")
    return replace(card, **changes)


def test_a_card_serialises_in_spec_order_without_empty_fields() -> None:
    card = good_card(links=())
    data = to_json(card)
    assert list(data) == ["uuid", "summary", "indicator", "detail", "source",
                          "overrideReasons", "suggestions", "selectionBehavior"]
    assert data["suggestions"][0] == {"uuid": card.suggestions[0].uuid,
                                      "label": "Physiotherapy",
                                      "actions": [{"type": "create", "description": "Refer",
                                                   "resource": DRAFT}],
                                      "isRecommended": True}
    assert list(data["source"]) == ["label", "topic"]
    assert card.topic == "imaging-not-indicated"
    assert orjson.loads(orjson.dumps(to_json(wire.Response()))) == {"cards": []}


BROKEN: dict[str, Any] = {
    "summary too long": lambda: good_card(summary=SECRET + "x" * 140),
    "summary empty": lambda: good_card(summary=""),
    "indicator": lambda: good_card(indicator="urgent"),
    "uuid": lambda: good_card(uuid=SECRET),
    "empty detail": lambda: good_card(detail=""),
    "no topic": lambda: good_card(source=wire.Source(label="x")),
    "foreign topic": lambda: good_card(source=wire.Source(label="x", topic=wire.Coding(
        system="https://x.org", code="imaging-not-indicated"))),
    "unknown topic": lambda: good_card(source=wire.Source(label="x", topic=wire.Coding(
        system=TOPIC_SYSTEM, code=SECRET))),
    "source url": lambda: wire.Source(label="x", url=SECRET),
    "no selectionBehavior": lambda: good_card(selection_behavior=None),
    "two recommended": lambda: good_card(suggestions=good_card().suggestions * 2),
    "override without display": lambda: good_card(override_reasons=(wire.Coding(code="a"),)),
    "empty coding": lambda: wire.Coding(code=""),
    "delete with resource": lambda: wire.Action(type="delete", description="d",
                                           resource=DRAFT, resource_id="ServiceRequest/1"),
    "delete without id": lambda: wire.Action(type="delete", description="d"),
    "bad reference": lambda: wire.Action(type="delete", description="d", resource_id=SECRET),
    "create without resource": lambda: wire.Action(type="create", description="d"),
    "empty in resource": lambda: wire.Action(type="create", description="d",
                                        resource={**DRAFT, "note": []}),
    "not a resource": lambda: wire.Action(type="create", description="d", resource={"a": 1}),
    "no description": lambda: wire.Action(type="create", description="", resource=DRAFT),
    "appContext on absolute": lambda: wire.Link(label="l", url="https://x.org", type="absolute",
                                           app_context="{}"),
    "relative link": lambda: wire.Link(label="l", url="/x", type="absolute"),
    "two cards one topic": lambda: wire.Response(cards=(good_card(), good_card())),
    "override reason empty": lambda: wire.OverrideReason(),
    "service without id": lambda: wire.Service(hook="patient-view", title=None,
                                          description="d", id=""),
}


@pytest.mark.parametrize("build", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_object_cannot_be_built_and_the_error_quotes_no_value(build: Any) -> None:
    with pytest.raises(wire.InvalidWireObject) as refused:
        build()
    assert "secret" not in str(refused.value)


def test_an_action_copy_is_serialised_as_given() -> None:
    action = wire.Action(type="delete", description="Remove", resource_id="ServiceRequest/a-1")
    assert to_json(action) == {"type": "delete", "description": "Remove",
                               "resourceId": "ServiceRequest/a-1"}


# JSON-like values, with the strings most likely to fool a text search: the empty marks
# themselves, quotes and backslashes; and values orjson cannot write (tuples, int keys).
_MARKY_TEXT = st.sampled_from(["", "null", '""', "[]", "{}", '"', "\\", 'a"', "x", "nullable"])
_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() \
    | _MARKY_TEXT | st.text(max_size=6)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner) | st.tuples()
    | st.dictionaries(_MARKY_TEXT | st.text(max_size=4), inner, max_size=4)
    | st.dictionaries(st.integers(), inner, max_size=2),
    max_leaves=12)


@given(_VALUES)
@settings(max_examples=600, deadline=None)
def test_the_fast_empty_check_answers_as_the_walk_does(value: Any) -> None:
    assert wire.has_empty_value(value) == bool(wire.empty_values(value, "v"))


class _Blank(str):
    def __len__(self) -> int:  # a subclass whose length disagrees with its text
        return 0


@pytest.mark.parametrize("value", [
    "", [""], {"": 1}, {"a": '"'}, {"a": 'x\\"'}, [float("nan")], {"a": _Blank("abc")},
    [_Blank("abc")], {"when": datetime(2026, 1, 1, tzinfo=UTC)}, (), {"a": ()},
])
def test_the_fast_empty_check_answers_as_the_walk_does_at_the_edges(value: Any) -> None:
    """The empty text itself, quotes, NaN (written as null), a lying str subclass, a
    datetime and tuples: each answered as the walk answers it."""
    assert wire.has_empty_value(value) == bool(wire.empty_values(value, "v"))


def test_an_empty_value_deep_in_a_suggested_resource_refuses_the_action() -> None:
    resource = {**DRAFT, "code": {"coding": [{"system": "http://loinc.org", "code": ""}]}}
    with pytest.raises(wire.InvalidWireObject, match="no null or empty value"):
        wire.Action(type="create", description="d", resource=resource)
    quoted = {**DRAFT, "note": [{"text": 'says "null" and []'}]}  # marks inside text only
    assert wire.Action(type="create", description="d", resource=quoted).resource == quoted


def test_a_card_under_another_uuid_is_the_same_card_and_the_uuid_is_checked() -> None:
    card = good_card()
    issued = str(uuid.uuid4())
    moved = card.with_uuid(issued)
    assert moved == replace(card, uuid=issued) and moved is not card
    assert card.uuid != issued  # the original is left as it was
    assert to_json(moved) == {**to_json(card), "uuid": issued}
    with pytest.raises(wire.InvalidWireObject, match=r"Card\.uuid") as raised:
        card.with_uuid(SECRET)
    assert SECRET not in str(raised.value)


def _accepted_as_uuid(text: str) -> bool:
    try:
        wire.Suggestion(uuid=text, label="x")
    except wire.InvalidWireObject:
        return False
    return True


def _uuid_module_accepts(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


_UUID_LIKE = st.one_of(
    st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: "{" + str(u) + "}"), st.uuids().map(lambda u: u.urn),
    st.uuids().map(lambda u: u.hex), st.uuids().map(lambda u: str(u) + "\n"),
    st.uuids().map(lambda u: str(u)[:-1] + "g"), st.text(max_size=40),
    st.from_regex(r"[0-9a-f-]{30,40}", fullmatch=True))


@settings(max_examples=1500)
@given(_UUID_LIKE)
def test_a_uuid_is_accepted_exactly_when_the_uuid_module_reads_it(text: str) -> None:
    """The canonical form is recognised without parsing it (#15); anything else is read
    by ``uuid.UUID`` as before: the same uuids accepted, the same refused."""
    assert _accepted_as_uuid(text) == _uuid_module_accepts(text)


def test_every_position_of_a_uuid_is_checked() -> None:
    """A non-hex character, or a hyphen moved, anywhere in the canonical form is refused
    (as uuid.UUID refuses it), whatever the position."""
    good = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert _accepted_as_uuid(good)
    for at in range(len(good)):
        for bad in (good[:at] + ("g" if good[at] != "-" else "0") + good[at + 1:],
                    good[:at] + good[at + 1:],  # one character fewer
                    good[:at] + "0" + good[at:],  # one more
                    good[:at] + "-" + good[at + 1:]):  # a hyphen in its place
            assert _accepted_as_uuid(bad) == _uuid_module_accepts(bad), bad
