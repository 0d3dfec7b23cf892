"""The check every suggested ``ServiceRequest`` passes before it leaves the core: the verdict
of ``fhir.resources.R4B``'s ``ServiceRequest.model_validate``, at a fraction of its cost.

Why: validating a whole ServiceRequest costs about 150 µs (its model runs every field's
validator, most of them empty), and a patient with several red flags gets nine of them a
call (issue #15: 2 ms of a 15 ms call). What varies from call to call is only a handful of
elements: the subject, encounter and reason references, and the time it was authored.
The rest (status, intent, priority, code, category) comes from the catalogue, a few dozen
shapes in all. So a resource is checked in two parts that FHIR validates independently:

- its *shape*: the resource with every call-specific value replaced by a fixed valid one
  of the same kind (``Patient/shape``, a fixed time), validated whole, once per shape;
- each call-specific element on its own: a ``Reference`` model per reference (about 8 µs)
  and the ``dateTime`` type for ``authoredOn``.

``fhir.resources`` checks no cross-element rule that ties these parts together (reference
targets are documented, not enforced), so the verdicts agree: proven over generated
values by ``tests/unit/core/test_order_check.py`` against the whole-resource validation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from fhir.resources.R4B import fhirtypes
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import TypeAdapter

_DATE_TIME = TypeAdapter(fhirtypes.DateTimeType)
_SHAPE_TIME = "2026-01-01T00:00:00+00:00"
_REFERENCES = ("subject", "encounter")


def check_service_request(resource: dict[str, Any]) -> None:
    """Raise (pydantic's ``ValidationError``) exactly when
    ``ServiceRequest.model_validate(resource)`` would. A resource whose call-specific
    elements are not in the form the catalogue builds is validated whole."""
    try:
        shape = orjson.dumps(_shape(resource), option=orjson.OPT_SORT_KEYS) \
            if _in_built_form(resource) else None
    except orjson.JSONEncodeError:  # not JSON (an integer past 64 bits, say)
        shape = None
    if shape is None:
        ServiceRequest.model_validate(resource)
        return
    _check_shape(shape)
    for name in _REFERENCES:
        if name in resource:
            _check_reference(resource[name])
    for reference in resource.get("reasonReference", ()):
        _check_reference(reference)
    if "authoredOn" in resource:
        _DATE_TIME.validate_python(resource["authoredOn"])


def _in_built_form(resource: dict[str, Any]) -> bool:
    """References are objects of text ``reference`` and ``display``, reasons a non-empty
    list of them, the time text: the form :func:`cds_rules.orders.proposed_service_request`
    builds."""
    references = [resource[name] for name in _REFERENCES if name in resource]
    if "reasonReference" in resource:
        reasons = resource["reasonReference"]
        if not isinstance(reasons, list) or not reasons:
            return False
        references += reasons
    return all(_plain_reference(r) for r in references) \
        and isinstance(resource.get("authoredOn", ""), str)


def _plain_reference(reference: Any) -> bool:
    return isinstance(reference, dict) and set(reference) <= {"reference", "display"} \
        and all(isinstance(v, str) for v in reference.values())


def _shape(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` with its call-specific values replaced by fixed valid ones of the same
    kind (the resource type of each reference kept, as its only catalogue part)."""
    shape = dict(resource)
    for name in _REFERENCES:
        if name in shape:
            shape[name] = _reference_shape(shape[name])
    if "reasonReference" in shape:
        shape["reasonReference"] = [_reference_shape(r) for r in shape["reasonReference"]]
    if "authoredOn" in shape:
        shape["authoredOn"] = _SHAPE_TIME
    return shape


def _reference_shape(reference: dict[str, Any]) -> dict[str, Any]:
    """The same keys; the reference keeps its type (``Condition/shape``), text is fixed."""
    shaped = dict(reference)
    if "reference" in shaped:
        shaped["reference"] = f"{shaped['reference'].split('/', 1)[0] or 'shape'}/shape"
    if "display" in shaped:
        shaped["display"] = "shape"
    return shaped


@lru_cache(maxsize=512)
def _check_shape(shape: bytes) -> None:
    """A shape validated whole, once: a valid one is remembered (a failure raises and is
    not cached, so an invalid shape raises every time)."""
    ServiceRequest.model_validate(orjson.loads(shape))


def _check_reference(reference: dict[str, str]) -> None:
    """One plain reference (text ``reference`` and ``display`` only): its verdict depends on
    those two texts alone, and a call's suggestions repeat the same few (the patient, the
    reasons of a card), so a valid pair is remembered; long texts are validated each time."""
    text, display = reference.get("reference"), reference.get("display")
    if len(text or "") + len(display or "") > _REMEMBERED_LENGTH:
        Reference.model_validate(reference)
    else:
        _check_reference_texts(text, display)


_REMEMBERED_LENGTH = 400


@lru_cache(maxsize=4096)
def _check_reference_texts(text: str | None, display: str | None) -> None:
    """Like :func:`_check_shape`: a failure raises and is not cached."""
    Reference.model_validate({name: value for name, value in
                              (("reference", text), ("display", display)) if value is not None})
