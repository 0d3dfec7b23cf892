"""The fast path of validation: the elements the record reads, checked without pydantic.

:func:`cds_rules.validation.validated` builds the ``fhir.resources`` R4B model of every
resource the record reads (0.1-0.5 ms each; a third of a call on a 1 MB Synthea patient).
Most resources are plainly valid, so :func:`validated` first walks the same projected
elements with plain type checks derived from those very models (element names, types,
cardinality, required elements, choice groups, the FHIR primitive patterns). It answers
only "certainly valid" or "not sure": when sure, it returns what the reference would (the
projected elements); when not, the reference decides (pydantic, with the zone repair).
So a malformed element is still skipped and counted, never raised, with the same result.

Everything the walk does not know is "not sure": primitive extensions (``_status``),
``fhir_comments``, contained resources, null or empty values, strings with control
characters, dates outside 1000-2999 or with leap seconds, and every other primitive type
(time, markdown, url, base64 ...). Being strict costs only speed on odd data, never a
different answer; ``tests/unit/core/test_record_fast_path.py`` and
``tests/integration/test_record_fast_path_corpora.py`` check the two paths agree on
the official R4 examples, the Synthea patients, every scenario and mutations.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import UnionType
from typing import Any

from cds_rules.validation import MODELS, project
from cds_rules.validation import validated as reference_validated

Check = Callable[[object], bool]

# Conservative forms of the FHIR primitives (each one a subset of what fhir_core accepts).
_DATE = re.compile(r"([12]\d{3})(?:-(\d{2})(?:-(\d{2}))?)?")
_DATE_TIME = re.compile(r"([12]\d{3})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)"
                        r"(?:\.\d{1,6})?(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))")
_CODE = re.compile(r"[^\s]+(?: [^\s]+)*")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_URI = re.compile(r"\S+")
_MAX_STRING = 1_048_576
# fhir_core.types.Decimal.pattern: what a decimal must look like as str()
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _string(value: object) -> bool:
    return type(value) is str and 0 < len(value) <= _MAX_STRING and value.isprintable() \
        and not value.isspace()


def _code(value: object) -> bool:
    return type(value) is str and value.isprintable() and _CODE.fullmatch(value) is not None


def _id(value: object) -> bool:
    return type(value) is str and _ID.fullmatch(value) is not None


def _uri(value: object) -> bool:
    return type(value) is str and value.isprintable() and _URI.fullmatch(value) is not None


def _boolean(value: object) -> bool:
    return type(value) is bool


def _calendar(year: str, month: str | None, day: str | None) -> bool:
    if year < "1000" or (month is not None and not "01" <= month <= "12"):
        return False
    if day is None:
        return True
    try:
        date(int(year), int(month or 1), int(day))
    except ValueError:
        return False
    return True


def _date(value: object) -> bool:
    if type(value) is not str:
        return False
    match = _DATE.fullmatch(value)
    return match is not None and _calendar(match[1], match[2], match[3])


def _date_time(value: object) -> bool:
    if type(value) is not str:
        return False
    if len(value) <= 10:
        return _date(value)
    return _instant(value)


def _instant(value: object) -> bool:
    if type(value) is not str:
        return False
    match = _DATE_TIME.fullmatch(value)
    return match is not None and _calendar(match[1], match[2], match[3])


def _decimal(value: object) -> bool:
    if type(value) is int:
        return True
    return type(value) is float and math.isfinite(value) \
        and _DECIMAL.fullmatch(str(value)) is not None


def _integer(low: int, high: int) -> Check:
    return lambda value: type(value) is int and low <= value <= high


_INT32 = (-2_147_483_648, 2_147_483_647)
_PRIMITIVES: dict[str, Check] = {
    "String": _string, "Code": _code, "Id": _id, "Uri": _uri, "Canonical": _uri,
    "Date": _date, "DateTime": _date_time, "Instant": _instant, "Decimal": _decimal,
    "Integer": _integer(*_INT32), "UnsignedInt": _integer(0, _INT32[1]),
    "PositiveInt": _integer(1, _INT32[1]),
}
_UNSURE_TARGETS = frozenset({"Resource", "DomainResource"})


@dataclass(frozen=True, slots=True)
class _Shape:
    """One FHIR complex type or resource as the walk sees it."""

    elements: dict[str, tuple[Check | None, bool]]  # JSON name -> (check, is a list)
    required: tuple[str, ...]
    choices: tuple[tuple[tuple[str, ...], bool], ...]  # (names, one required)
    resource_type: str | None


_SHAPES: dict[type, _Shape] = {}
_NEVER: tuple[Check | None, bool] = (None, False)  # an element the model does not have


def _shape(model: Any) -> _Shape:
    shape = _SHAPES.get(model)
    if shape is None:
        shape = _SHAPES[model] = _build_shape(model)
    return shape


def _build_shape(model: Any) -> _Shape:
    fields = model.model_fields
    alias = {name: info.alias or name for name, info in fields.items()}
    elements = {alias[name]: _element(info.annotation) for name, info in fields.items()}
    blank = model.model_construct()
    required = {alias[name] for name, info in fields.items() if info.is_required()}
    required.update(alias[name] for name, _ in blank.get_required_fields())
    choices = tuple(
        (tuple(alias[n] for n in names),
         bool((fields[names[0]].json_schema_extra or {}).get("one_of_many_required")))
        for names in blank.get_one_of_many_fields().values())
    rtype = model.get_resource_type() if model.has_resource_base() else None
    return _Shape(elements, tuple(sorted(required)), choices, rtype)


def _element(annotation: object) -> tuple[Check | None, bool]:
    """(check, is a list) for one model field; check None: never sure."""
    inner = _without_none(annotation)
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        return _single(_without_none(item)), True
    return _single(inner), False


def _without_none(annotation: object) -> object:
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _single(annotation: object) -> Check | None:
    if typing.get_origin(annotation) is typing.Annotated:
        meta = typing.get_args(annotation)[1]
        name = meta.__name__ if isinstance(meta, type) else type(meta).__name__
        return _PRIMITIVES.get(name)
    if annotation is bool:
        return _boolean
    klass = getattr(annotation, "get_model_klass", None)
    if klass is None:
        return None
    model = klass()
    if model.__name__ in _UNSURE_TARGETS:
        return None
    return lambda value: _complex(_shape(model), value)


def _complex(shape: _Shape, value: object) -> bool:
    if type(value) is not dict or not value:
        return False
    elements = shape.elements
    for key, item in value.items():
        if key == "resourceType" and shape.resource_type is not None:
            if item != shape.resource_type:
                return False
            continue
        check, many = elements.get(key, _NEVER)
        if check is None:
            return False
        if many:
            if type(item) is not list or not item:
                return False
            for entry in item:
                if not check(entry):
                    return False
        elif not check(item):
            return False
    for name in shape.required:
        if name not in value:
            return False
    for names, one_required in shape.choices:
        present = sum(1 for name in names if name in value)
        if present > 1 or (one_required and present == 0):
            return False
    return True


def certainly_valid(resource: dict[str, Any]) -> bool:
    """True only when the R4B model of ``resource``'s type surely accepts it as it is."""
    model = MODELS.get(resource.get("resourceType"))  # type: ignore[arg-type]
    return model is not None and _complex(_shape(model), resource)


def validated(resource: dict[str, Any]) -> dict[str, Any] | None:
    """Same answer as :func:`cds_rules.validation.validated`, without pydantic when the
    projected elements are certainly valid."""
    if type(resource.get("resourceType")) is str and resource["resourceType"] in MODELS:
        projected = project(resource)
        if certainly_valid(projected):
            return projected
    return reference_validated(resource)


def warm() -> None:
    """Build the shape of every type the read elements reach, once, at import (as
    :func:`cds_rules.validation.warm` does for the models)."""
    todo: list[Any] = list(MODELS.values())
    seen: set[Any] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        _shape(model)
        for info in model.model_fields.values():
            inner = _without_none(info.annotation)
            if typing.get_origin(inner) is list:
                inner = _without_none(typing.get_args(inner)[0])
            klass: Any = getattr(inner, "get_model_klass", None)
            if klass is not None and klass().__name__ not in _UNSURE_TARGETS:
                todo.append(klass())


warm()
