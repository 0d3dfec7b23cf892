"""Typed CDS Hooks 2.0.1 wire objects (HAPI style): plain, complete, checked where built.

Every object the service sends is one of these frozen dataclasses. Each checks the spec's
invariants (CDS_HOOKS.md "Response", "Discovery") in ``__post_init__`` and raises
:class:`InvalidWireObject` when one is broken, so a card that breaks the rules cannot be
built, let alone sent: the engine falls back to a smaller card of the same topic instead
(:mod:`cds_rules.engine`). :func:`to_json` is the one way they become JSON: fields in
declaration order, camelCase names, an optional field without a value left out (never
``null``, ``""``, ``[]`` or ``{}``; only ``Response.cards`` may be empty).
:func:`to_json_bytes` writes the same JSON as bytes, the parts every card shares
written once (:func:`written_once`).

Error messages name the field and the rule, never the value: a value may quote patient
data, and these messages reach the log.
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import orjson

from cds_rules.model import TOPIC_SYSTEM, Topic

Indicator = Literal["info", "warning", "critical"]
INDICATORS: tuple[str, ...] = ("info", "warning", "critical")
SELECTION_BEHAVIORS: tuple[str, ...] = ("at-most-one", "any")
ACTION_TYPES: tuple[str, ...] = ("create", "update", "delete")
LINK_TYPES: tuple[str, ...] = ("absolute", "smart")
SUMMARY_LIMIT = 139  # CDS Hooks: summary < 140 characters
TOPIC_CODES: frozenset[str] = frozenset(t.value for t in Topic)
# A UUID as str(uuid.UUID) writes it (what the card path checks on every card, #15).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A relative reference "Type/id" (e.g. "ServiceRequest/abc"); FHIR R4 id syntax.
RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$")


class InvalidWireObject(ValueError):
    """A wire object that would break CDS Hooks (the message names the field, no value)."""


def _check(condition: bool, where: str, rule: str) -> None:
    if not condition:
        raise InvalidWireObject(f"{where}: {rule}")


def _text(value: str | None, where: str, *, required: bool = False) -> None:
    """An optional string is absent or non-empty; a required one is non-empty."""
    if value is None:
        _check(not required, where, "required")
        return
    _check(isinstance(value, str) and value != "", where, "must be a non-empty string")


def _url(value: str | None, where: str, *, required: bool = False) -> None:
    _text(value, where, required=required)
    if value is not None:
        parts = urlsplit(value)
        _check(parts.scheme in ("http", "https") and bool(parts.netloc), where,
               "must be an absolute http(s) URL")


def _uuid(value: str, where: str) -> None:
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return  # the form every uuid we make has: a UUID to uuid.UUID as well
    try:
        uuid_module.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise InvalidWireObject(f"{where}: must be a UUID") from None


def empty_values(value: Any, path: str) -> list[str]:
    """Paths of every null, "", [] or {} inside ``value`` (iterative: no recursion limit)."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if item is None or (isinstance(item, str | list | dict) and len(item) == 0):
            found.append(f"{where}: empty or null value")
        elif isinstance(item, dict):
            stack.extend((f"{where}.{k}", v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}", v) for i, v in enumerate(item))
    return found


# How each empty value is written in orjson's compact JSON. An empty string follows the
# ":", ",", "[" or "{" before it, or opens the text; a bare "" also ends a string
# holding a quote (\""), which these marks leave out.
_EMPTY_MARKS = (b"null", b':""', b',""', b'[""', b'{""', b"[]", b"{}")
# Anything but plain JSON types (a subclass, a datetime, a dataclass) is left to the walk:
# a subclass may answer len() unlike its text, and orjson's own conversions are not needed.
_ONLY_JSON = (orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
              | orjson.OPT_PASSTHROUGH_DATACLASS)


def has_empty_value(value: Any) -> bool:
    """``bool(empty_values(value, ...))`` at a fraction of its cost on the card path.

    Every empty value leaves one of :data:`_EMPTY_MARKS` in the JSON text, so a text
    without any holds none (one serialisation in C instead of a path string per node). A
    mark may also sit inside a string, and a value may not be JSON at all: those are
    settled by the walk of :func:`empty_values`, so the answer is always the walk's."""
    try:
        text = orjson.dumps(value, option=_ONLY_JSON)
    except TypeError:  # orjson.JSONEncodeError is one: not JSON as orjson writes it
        return bool(empty_values(value, ""))
    marked = text.startswith(b'""') or any(mark in text for mark in _EMPTY_MARKS)
    return marked and bool(empty_values(value, ""))


@dataclass(frozen=True, slots=True)
class Coding:
    """FHIR Coding (card topics, override reasons)."""

    system: str | None = None
    version: str | None = None
    code: str | None = None
    display: str | None = None
    user_selected: bool | None = None

    def __post_init__(self) -> None:
        for name in ("system", "version", "code", "display"):
            _text(getattr(self, name), f"Coding.{name}")


@dataclass(frozen=True, slots=True)
class OverrideReason:
    """What a clinician gives for overriding a card (feedback): a coded reason, a
    comment, or both."""

    reason: Coding | None = None
    user_comment: str | None = None

    def __post_init__(self) -> None:
        _text(self.user_comment, "OverrideReason.userComment")
        _check(self.reason is not None or self.user_comment is not None, "OverrideReason",
               "needs a reason or a userComment")


@dataclass(frozen=True, slots=True)
class Source:
    label: str
    topic: Coding | None = None
    url: str | None = None
    icon: str | None = None

    def __post_init__(self) -> None:
        _text(self.label, "Source.label", required=True)
        _url(self.url, "Source.url")
        _url(self.icon, "Source.icon")


@dataclass(frozen=True, slots=True)
class Action:
    """A suggested or system action: create/update carry a resource, delete an id."""

    type: Literal["create", "update", "delete"]
    description: str
    resource: Mapping[str, Any] | None = None
    resource_id: str | None = None

    def __post_init__(self) -> None:
        _check(self.type in ACTION_TYPES, "Action.type", "must be create, update or delete")
        _text(self.description, "Action.description", required=True)
        if self.type == "delete":
            _check(self.resource_id is not None, "Action.resourceId",
                   "a delete action needs it")
            _check(self.resource is None, "Action.resource",
                   "a delete action uses resourceId")
        else:
            _check(self.resource is not None, "Action.resource",
                   f"a {self.type} action needs the resource")
            _check(self.resource_id is None, "Action.resourceId",
                   f"a {self.type} action carries none")
        if self.resource_id is not None:
            _check(isinstance(self.resource_id, str)
                   and RELATIVE_REFERENCE.match(self.resource_id) is not None,
                   "Action.resourceId", "must be a relative reference such as "
                   "ServiceRequest/123")
        if self.resource is not None:
            kind = self.resource.get("resourceType") if isinstance(self.resource,
                                                                     Mapping) else None
            _check(isinstance(kind, str) and kind != "", "Action.resource",
                   "must be a FHIR resource with a resourceType")
            _check(not has_empty_value(dict(self.resource)), "Action.resource",
                   "must hold no null or empty value")


@dataclass(frozen=True, slots=True)
class Suggestion:
    uuid: str
    label: str
    actions: tuple[Action, ...] = ()
    is_recommended: bool | None = None
    action_selection_behavior: Literal["all", "any", "at-most-one"] | None = None

    def __post_init__(self) -> None:
        _uuid(self.uuid, "Suggestion.uuid")
        _text(self.label, "Suggestion.label", required=True)
        _check(self.action_selection_behavior in (None, "all", "any", "at-most-one"),
               "Suggestion.actionSelectionBehavior", "must be all, any or at-most-one")


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str
    type: Literal["absolute", "smart"]
    app_context: str | None = None
    autolaunchable: bool | None = None

    def __post_init__(self) -> None:
        _text(self.label, "Link.label", required=True)
        _url(self.url, "Link.url", required=True)
        _check(self.type in LINK_TYPES, "Link.type", "must be absolute or smart")
        _text(self.app_context, "Link.appContext")
        _check(self.app_context is None or self.type == "smart", "Link.appContext",
               "only on smart links")


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    """A CDS Hooks card, with our own contract on top: ``source.topic`` is a Coding from
    our card-topic system (feedback, snoozes and the audit key on it)."""

    uuid: str
    summary: str
    indicator: Indicator
    detail: str | None = None
    source: Source
    override_reasons: tuple[Coding, ...] = ()
    links: tuple[Link, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    selection_behavior: Literal["at-most-one", "any"] | None = None

    def __post_init__(self) -> None:
        _uuid(self.uuid, "Card.uuid")
        _text(self.summary, "Card.summary", required=True)
        _check(len(self.summary) <= SUMMARY_LIMIT, "Card.summary",
               f"must be 1 to {SUMMARY_LIMIT} characters")
        _check(self.indicator in INDICATORS, "Card.indicator",
               "must be info, warning or critical")
        _text(self.detail, "Card.detail")
        topic = self.source.topic
        _check(topic is not None and topic.system == TOPIC_SYSTEM
               and topic.code in TOPIC_CODES, "Card.source.topic",
               "must be one of the card topics")
        _check(all(r.display is not None for r in self.override_reasons),
               "Card.overrideReasons", "each needs a display")
        _check(self.selection_behavior in (None, *SELECTION_BEHAVIORS),
               "Card.selectionBehavior", "must be at-most-one or any")
        if self.suggestions:
            _check(self.selection_behavior is not None, "Card.selectionBehavior",
                   "required with suggestions")
        if self.selection_behavior == "at-most-one":
            _check(sum(bool(s.is_recommended) for s in self.suggestions) <= 1,
                   "Card.suggestions", "at most one recommended under at-most-one")

    def with_uuid(self, uuid: str) -> Card:
        """This card under another uuid (the shell issues its own, :mod:`service.card_ids`).
        Only the uuid is checked: every other field was checked when this card was built
        (``dataclasses.replace`` would check them all again on every card sent, #15)."""
        _uuid(uuid, "Card.uuid")
        card = object.__new__(type(self))
        for name in _CARD_FIELDS:
            object.__setattr__(card, name, getattr(self, name))
        object.__setattr__(card, "uuid", uuid)
        return card

    @property
    def topic(self) -> str:
        """The card's topic code (``source.topic.code``): the one way to read it."""
        assert self.source.topic is not None and self.source.topic.code is not None
        return self.source.topic.code


_CARD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Card))


@dataclass(frozen=True, slots=True)
class Response:
    """The answer to a hook call: ``{"cards": [...], "systemActions": [...]?}``."""

    cards: tuple[Card, ...] = field(default=(), metadata={"keep_empty": True})
    system_actions: tuple[Action, ...] = ()

    def __post_init__(self) -> None:
        topics = [card.topic for card in self.cards]
        _check(len(topics) == len(set(topics)), "Response.cards", "one card per topic")


@dataclass(frozen=True, slots=True)
class Service:
    """One discovery entry (``GET /cds-services``)."""

    hook: str
    title: str | None
    description: str
    id: str
    prefetch: Mapping[str, str] = field(default_factory=dict)
    usage_requirements: str | None = None

    def __post_init__(self) -> None:
        for name in ("hook", "description", "id"):
            _text(getattr(self, name), f"Service.{name}", required=True)
        _text(self.title, "Service.title")
        _text(self.usage_requirements, "Service.usageRequirements")
        _check(all(key and value for key, value in self.prefetch.items()),
               "Service.prefetch", "keys and templates must be non-empty")


# --- JSON: to_json, and to_json_bytes for the hook answer ------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


Layout = tuple[tuple[str, str, bool], ...]
# Written as they are; subclasses (enums) take the general path.
_PLAIN = frozenset({str, int, float, bool})


@cache
def _layout(cls: type) -> Layout | None:
    """(attribute, JSON name, keep when empty) of a wire class, in declaration order; None
    for anything else. Computed once per class (to_json runs on every card, issue #15)."""
    if not is_dataclass(cls):
        return None
    return tuple((f.name, _camel(f.name), bool(f.metadata.get("keep_empty")))
                 for f in fields(cls))


WireT = TypeVar("WireT")
_NOTHING_WRITTEN: dict[int, tuple[Any, orjson.Fragment]] = {}
_WRITTEN: dict[int, tuple[Any, orjson.Fragment]] = {}  # id -> (the object, its JSON)


def to_json(obj: Any) -> Any:
    """A wire object (or a tuple of them) as JSON data, ready for ``orjson.dumps``."""
    return _json(obj, _NOTHING_WRITTEN)


def to_json_bytes(obj: Any) -> bytes:
    """``orjson.dumps(to_json(obj))``, byte for byte, with the JSON of every object
    registered by :func:`written_once` spliced in as written then instead of rebuilt."""
    return orjson.dumps(_json(obj, _WRITTEN))


def written_once(obj: WireT) -> WireT:
    """``obj``, its JSON written now for :func:`to_json_bytes` to reuse. Why: a card's
    topic, source, links and override reasons are the same few objects on every card, and
    rebuilding their JSON was a third of what :func:`to_json` cost on a card (#15).

    Only for objects kept for the life of the process (module constants, cached
    builders): the registry holds each one, so its id cannot be taken by another. Only
    for objects frozen all the way down (TypeError otherwise): a field that could change
    after the JSON was written would make the two serialisers disagree."""
    if not _frozen_all_the_way(obj):
        raise TypeError("written_once: only frozen wire objects and tuples of them, with "
                        "no mapping or list inside")
    if obj:  # () is one object in CPython: never stand in for every empty tuple
        _WRITTEN.setdefault(id(obj), (obj, orjson.Fragment(orjson.dumps(to_json(obj)))))
    return obj


def _frozen_all_the_way(obj: Any) -> bool:
    """A plain value, a tuple of such, or a frozen dataclass whose fields all are."""
    kind: type = type(obj)
    if kind in _PLAIN or obj is None:
        return True
    if kind is tuple:
        return all(_frozen_all_the_way(item) for item in obj)
    layout = _layout(kind)
    if layout is None or not kind.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return False
    return all(_frozen_all_the_way(getattr(obj, attribute)) for attribute, _, _ in layout)


def _json(obj: Any, written: dict[int, tuple[Any, orjson.Fragment]]) -> Any:
    """:func:`to_json`'s walk; an object found in ``written`` is its JSON as written."""
    kind: type = type(obj)
    if kind in _PLAIN or obj is None:
        return obj
    if written and (known := written.get(id(obj))) is not None:
        return known[1]
    if isinstance(obj, tuple | list):
        return [_json(item, written) for item in obj]
    layout = _layout(kind)
    if layout is None:
        return dict(obj) if isinstance(obj, Mapping) else obj
    out: dict[str, Any] = {}
    for attribute, name, keep_empty in layout:
        value = getattr(obj, attribute)
        if type(value) in _PLAIN:
            out[name] = value
        elif value is None or (not keep_empty and isinstance(value, tuple | Mapping)
                               and not value):
            continue
        else:
            out[name] = _json(value, written)
    return out
