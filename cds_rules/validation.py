"""Structural validation of the few resources the rules use, with ``fhir.resources.R4B``.

Validation is the expensive step (DESIGN.md, "Performance design"), so the record builder
calls it only for resources it has already selected by type and code. A resource that
fails is skipped and counted, never fatal. One messy-but-readable form is repaired first:
a dateTime with a time but no zone ("2026-03-05T10:00:00", "2026-03-05 10:00"), which the
spec forbids and real feeds send; it is validated as UTC, and the record reads the value as
sent (a wall time in an unknown zone: ``fhir_time.floating``; CLINICAL.md principle 5).
A string holding a lone UTF-16 surrogate (no Unicode text: a caller's text cut through an
emoji; the HTTP shell mends them in the body already) is read with U+FFFD in its place and
counted (:class:`MendedText`) rather than losing the resource, and with it a red flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any, TypeVar

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_rules.model import Fact, Order, UnreadDraft

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "Condition": Condition,
    "Observation": Observation,
    "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement,
    "Medication": Medication,
    "ServiceRequest": ServiceRequest,
    "Procedure": Procedure,
    "ImagingStudy": ImagingStudy,
    "DiagnosticReport": DiagnosticReport,
}

# The elements the record builder reads, per type (names, and prefixes of choice
# elements such as onset[x]). Only these are validated: what is never read cannot mislead
# the rules, so junk elsewhere does not cost a usable resource, and validating a Synthea
# Patient without its narrative and extensions takes 0.1 ms instead of 3.5 ms.
_COMMON = ("resourceType", "id", "subject", "status", "code", "extension")
READ_ELEMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Patient": (("resourceType", "id", "birthDate", "gender", "deceasedBoolean",
                 "deceasedDateTime"), ()),
    "Condition": ((*_COMMON, "clinicalStatus", "verificationStatus", "bodySite",
                   "recordedDate", "stage", "severity"), ("onset", "abatement")),
    "Observation": ((*_COMMON, "issued", "dataAbsentReason", "interpretation", "bodySite",
                     "component"), ("effective", "value")),
    "MedicationRequest": ((*_COMMON, "intent", "authoredOn", "dosageInstruction",
                           "dispenseRequest", "doNotPerform", "contained"), ("medication",)),
    "MedicationStatement": ((*_COMMON, "dateAsserted", "dosage", "contained"),
                            ("medication", "effective")),
    "Medication": (("resourceType", "id", "code"), ()),
    "ServiceRequest": ((*_COMMON, "intent", "authoredOn", "doNotPerform", "bodySite"),
                       ("occurrence",)),
    "Procedure": ((*_COMMON, "bodySite"), ("performed",)),
    "ImagingStudy": (("resourceType", "id", "subject", "status", "started", "procedureCode",
                      "series", "description"), ()),
    "DiagnosticReport": ((*_COMMON, "issued", "conclusionCode"), ("effective",)),
}

_ZONELESS = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?$")
_MAX_DEPTH = 12
_Texts = TypeVar("_Texts", Fact, Order, UnreadDraft)
# A surrogate code point in a str is no character: a lone half, or a pair kept as two code
# points by a caller (each half then reads as one U+FFFD)
_SURROGATE = re.compile("[\ud800-\udfff]")


class MendedText(dict[str, Any]):
    """The read elements of a resource whose text held lone surrogates, each replaced by
    U+FFFD; ``mended``: how many (the record says so on every card)."""

    __slots__ = ("mended",)

    def __init__(self, elements: dict[str, Any], mended: int) -> None:
        super().__init__(elements)
        self.mended = mended


def surrogates(text: str) -> int:
    """How many surrogate code points ``text`` holds (each read as one U+FFFD)."""
    return len(_SURROGATE.findall(text))


def mended(text: str) -> str:
    """``text`` with every surrogate code point replaced by U+FFFD (itself when none)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def mended_text(item: _Texts) -> _Texts:
    """A dataclass (a fact, an order) with lone surrogates in its text fields replaced by
    U+FFFD; the same object when it held none."""
    changes: dict[str, Any] = {
        f.name: mended(value) for f in fields(item)
        if isinstance(value := getattr(item, f.name), str) and _SURROGATE.search(value)}
    return replace(item, **changes) if changes else item


def mended_text_gap(count: int) -> str:
    """The data gap every card of a call carries when ``count`` characters of its text
    were broken UTF-16 (lone surrogates, or their escapes in the JSON sent) and were read
    as U+FFFD: a word in an entry may be garbled, so a clinician checks the chart."""
    what = ("character of the sent text (a broken UTF-16 surrogate" if count == 1
            else "characters of the sent text (broken UTF-16 surrogates")
    return f"{count} {what}, shown as \ufffd): a word in an entry may be garbled"


def validated(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The elements the record builder reads (:data:`READ_ELEMENTS`), as sent, if they
    validate as the R4B model (a zone-less time validated as UTC but returned as sent;
    lone surrogates replaced: :class:`MendedText`); else None.

    Types without a model here are returned unchanged: the record builder never reads them.
    """
    rtype = resource.get("resourceType")
    model = MODELS.get(rtype) if isinstance(rtype, str) else None
    if model is None:
        return resource
    projected = project(resource)
    if _valid(model, projected):
        return projected
    try:
        mended, surrogates = _mend_text(projected)
        repaired = _map_strings(mended, 0, _with_zone)
    except RecursionError:
        return None
    if (surrogates or repaired is not mended) and _valid(model, repaired):
        # valid but for the zones: the record reads the times as sent, so that it knows a
        # zone-less time for one (fhir_time.floating)
        return MendedText(mended, surrogates) if surrogates else projected
    return None


def project(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource restricted to the elements the record builder reads."""
    names, prefixes = READ_ELEMENTS.get(str(resource.get("resourceType")), ((), ()))
    return {k: v for k, v in resource.items()
            if k in names or (prefixes and k.startswith(prefixes))}


def why_invalid(resource: Any) -> str:
    """The first complaint of the R4B model about the elements the rules read (for
    people: ``backpain-cds evaluate`` and the preview page name dropped resources)."""
    if not isinstance(resource, dict):
        return "not a JSON object"
    model = MODELS.get(str(resource.get("resourceType")))
    if model is None:
        return "not a FHIR resource the rules read"
    first = _first_error(model, project(resource))
    if first is None:
        return "not valid FHIR R4 as read"
    loc = tuple(first.get("loc", ()))
    where = ".".join(str(part) for part in (loc[:-1] if _shape_error(first) else loc))
    return f"{where or 'resource'}: {first.get('msg', 'invalid')}"


def _shape_error(first: dict[str, Any]) -> bool:
    """A value of the wrong shape ("code" sent as a list): fhir.resources ends the path
    with "root", a name of its own the cards and the CLI leave out (a sender's own "root"
    key inside an element is another error, an unknown element, and keeps its name)."""
    return first.get("type") == "model_validation_format" \
        and tuple(first.get("loc", ()))[-1:] == ("root",)


def invalid_element(resource: dict[str, Any]) -> str:
    """Where the R4B model refuses the elements the rules read once they are read as
    :func:`validated` reads them (lone surrogates mended, zone-less times given a zone):
    the element's path ("effectiveDateTime", "code.coding.0"), or "" when it cannot say."""
    model = MODELS.get(str(resource.get("resourceType")))
    if model is None:
        return ""
    try:
        repaired = _map_strings(_mend_text(project(resource))[0], 0, _with_zone)
    except RecursionError:
        return ""
    first = _first_error(model, repaired)
    if first is None:
        return ""
    loc = tuple(first.get("loc", ()))
    # an element the model does not know: its name is the sender's text, not ours
    if first.get("type") == "extra_forbidden" or _shape_error(first):
        loc = loc[:-1]
    return _element_path(loc)


def _first_error(model: Any, elements: dict[str, Any]) -> dict[str, Any] | None:
    """The model's first complaint about ``elements`` (pydantic's error: loc, msg, type);
    None when it accepts them; {"msg": <the exception's type>} for anything else raised."""
    try:
        model.model_validate(elements)
    except Exception as exc:  # pydantic ValidationError, and anything odd input can provoke
        errors = getattr(exc, "errors", None)
        found = errors() if callable(errors) else None
        return dict(found[0]) if found else {"msg": type(exc).__name__}
    return None


_ELEMENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def _element_path(loc: Any) -> str:
    """The model's location as a path of element names and indexes, up to the first part
    that is neither (belt and braces: an unknown key is cut before this), at most six."""
    parts: list[str] = []
    for part in loc if isinstance(loc, tuple | list) else ():
        if isinstance(part, int) or (isinstance(part, str) and _ELEMENT_NAME.fullmatch(part)):
            parts.append(str(part))
        else:
            break
    return ".".join(parts[:6])


def _valid(model: Any, resource: dict[str, Any]) -> bool:
    try:
        model.model_validate(resource)
    except Exception:  # pydantic ValidationError, and anything odd input can provoke
        return False
    return True


def _with_zone(text: str) -> str:
    """A zone-less dateTime given "Z"; any other text as it is (the same object)."""
    match = _ZONELESS.match(text)
    if match is None:
        return text
    return f"{match[1]}T{match[2]}{match[3] or ':00'}Z"


def _mend_text(elements: dict[str, Any]) -> tuple[Any, int]:
    """``elements`` with every lone surrogate replaced by U+FFFD, and how many there were
    (the same object and 0 when there were none)."""
    found = 0

    def mend(text: str) -> str:
        nonlocal found
        mended, count = _SURROGATE.subn("\ufffd", text)
        found += count
        return mended if count else text

    return _map_strings(elements, 0, mend), found


def _map_strings(value: Any, depth: int, change: Callable[[str], str]) -> Any:
    """A copy with ``change`` applied to every string (keys kept); the same object when
    nothing changed."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        changed = {k: _map_strings(v, depth + 1, change) for k, v in value.items()}
        same = all(changed[k] is value[k] for k in value)
        return value if same else changed
    if isinstance(value, list):
        items = [_map_strings(v, depth + 1, change) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def warm() -> None:
    """Build each model's validators once: pydantic and fhir.resources build and import
    lazily (the first Patient with extensions costs ~150 ms), so a worker pays that at
    start-up (gunicorn --preload), not on its first hook call."""
    ref = {"reference": "Patient/warm"}
    concept = {"coding": [{"system": "http://snomed.info/sct", "code": "1", "display": "x"}],
               "text": "x"}
    extensions = [
        {"url": "http://example.org/a", "valueString": "x"},
        {"url": "http://example.org/b", "valueCode": "x"},
        {"url": "http://example.org/c", "valueDecimal": 1.5},
        {"url": "http://example.org/d", "valueCoding": concept["coding"][0]},
        {"url": "http://example.org/e", "valueAddress": {"city": "x"}},
        {"url": "http://example.org/f", "extension": [{"url": "g", "valueString": "x"}]},
    ]
    samples: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "warm", "extension": extensions,
         "identifier": [{"type": concept, "system": "urn:x", "value": "1"}],
         "name": [{"use": "official", "family": "x", "given": ["x"], "prefix": ["x"]}],
         "telecom": [{"system": "phone", "value": "1", "use": "home"}], "gender": "male",
         "birthDate": "1970-01-01", "deceasedDateTime": "2020-01-01T00:00:00Z",
         "address": [{"extension": [{"url": "x", "extension": [
             {"url": "latitude", "valueDecimal": 1.0}]}], "line": ["x"], "city": "x"}],
         "maritalStatus": concept, "multipleBirthBoolean": False,
         "communication": [{"language": concept}], "text": {"status": "generated",
                                                             "div": "<div>x</div>"}},
        {"resourceType": "Condition", "id": "warm", "subject": ref, "code": concept,
         "clinicalStatus": concept, "verificationStatus": concept, "bodySite": [concept],
         "onsetAge": {"value": 1, "code": "a"}, "recordedDate": "2020-01-01",
         "stage": [{"summary": concept}], "extension": extensions[:1]},
        {"resourceType": "Observation", "id": "warm", "status": "final", "subject": ref,
         "category": [concept], "code": concept, "encounter": ref,
         "effectivePeriod": {"start": "2020-01-01"}, "issued": "2020-01-01T00:00:00Z",
         "valueQuantity": {"value": 1, "unit": "x", "system": "http://unitsofmeasure.org",
                           "code": "x"},
         "interpretation": [concept], "bodySite": concept,
         "component": [{"code": concept, "valueCodeableConcept": concept},
                       {"code": concept, "valueInteger": 1},
                       {"code": concept, "valueQuantity": {"value": 1}}]},
        {"resourceType": "MedicationRequest", "id": "warm", "status": "active",
         "intent": "order", "subject": ref, "medicationCodeableConcept": concept,
         "authoredOn": "2020-01-01", "requester": ref,
         "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2020"}}},
                                "route": concept, "asNeededBoolean": False}]},
        {"resourceType": "Procedure", "id": "warm", "status": "completed", "subject": ref,
         "code": concept, "performedPeriod": {"start": "2020-01-01"}},
        {"resourceType": "ServiceRequest", "id": "warm", "status": "active", "intent": "order",
         "subject": ref, "code": concept, "authoredOn": "2020-01-01"},
    ]
    for sample in samples:
        _valid(MODELS[sample["resourceType"]], sample)
    for name, model in MODELS.items():
        _valid(model, {"resourceType": name})


warm()
