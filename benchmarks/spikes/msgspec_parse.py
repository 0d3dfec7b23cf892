"""Spike (issue 15): what a selective, typed parse would cost next to the orjson floor.

Not part of ``make bench`` and msgspec is not a dependency: run it in a scratch
environment (``pip install msgspec orjson`` beside the project's own packages) with
``python -m benchmarks.spikes.msgspec_parse``. It decodes the bodies ``make bench``
sends for the ~1 MB and the largest Synthea patients (back pain added) three ways:

- ``orjson.loads`` (the floor) and msgspec's untyped decode (the same work);
- msgspec into ``Struct``s of roughly the elements the record builder reads, in one go
  (unknown fields skipped without allocation; one malformed element fails the whole call);
- the envelope typed, each resource decoded on its own from ``msgspec.Raw`` (a malformed
  resource fails alone, as the record builder requires).

The Structs are a sketch, not the builder's full list of elements. msgspec cannot report
duplicate keys (msgspec issue 648), so the service's duplicate-key check would still need
a pass of its own.
"""

from __future__ import annotations

import timeit
from typing import Union

import msgspec
import orjson
from msgspec import Raw, Struct

from benchmarks import inputs


class Coding(Struct):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class Concept(Struct):
    coding: list[Coding] = []
    text: str | None = None


class Ref(Struct):
    reference: str | None = None
    display: str | None = None


class Quantity(Struct):
    value: float | None = None
    unit: str | None = None
    code: str | None = None
    system: str | None = None


class Period(Struct):
    start: str | None = None
    end: str | None = None


class Component(Struct):
    code: Concept | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: Concept | None = None
    valueString: str | None = None
    valueInteger: int | None = None


class Base(Struct, tag_field="resourceType"):
    id: str | None = None
    subject: Ref | None = None
    patient: Ref | None = None


class Observation(Base, tag="Observation"):
    status: str | None = None
    code: Concept | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: Concept | None = None
    valueString: str | None = None
    valueInteger: int | None = None
    valueBoolean: bool | None = None
    component: list[Component] = []
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    issued: str | None = None
    interpretation: list[Concept] = []
    bodySite: Concept | None = None


class Condition(Base, tag="Condition"):
    clinicalStatus: Concept | None = None
    verificationStatus: Concept | None = None
    category: list[Concept] = []
    severity: Concept | None = None
    code: Concept | None = None
    bodySite: list[Concept] = []
    onsetDateTime: str | None = None
    onsetPeriod: Period | None = None
    abatementDateTime: str | None = None
    recordedDate: str | None = None


class MedicationRequest(Base, tag="MedicationRequest"):
    status: str | None = None
    intent: str | None = None
    medicationCodeableConcept: Concept | None = None
    medicationReference: Ref | None = None
    authoredOn: str | None = None


class Procedure(Base, tag="Procedure"):
    status: str | None = None
    code: Concept | None = None
    performedDateTime: str | None = None
    performedPeriod: Period | None = None


class DiagnosticReport(Base, tag="DiagnosticReport"):
    status: str | None = None
    code: Concept | None = None
    effectiveDateTime: str | None = None
    issued: str | None = None
    conclusionCode: list[Concept] = []
    conclusion: str | None = None


class ImagingStudy(Base, tag="ImagingStudy"):
    status: str | None = None
    started: str | None = None
    procedureCode: list[Concept] = []


class Patient(Base, tag="Patient"):
    birthDate: str | None = None
    gender: str | None = None
    deceasedBoolean: bool | None = None
    deceasedDateTime: str | None = None


Resource = Union[Observation, Condition, MedicationRequest, Procedure,  # noqa: UP007
                 DiagnosticReport, ImagingStudy, Patient]


class Entry(Struct):
    resource: Resource | None = None


class Bundle(Struct, tag_field="resourceType", tag="Bundle"):
    entry: list[Entry] = []


class Context(Struct):
    patientId: str
    userId: str | None = None


class Request(Struct):
    hook: str
    hookInstance: str
    context: Context
    prefetch: dict[str, Bundle | Patient] = {}


class RawEntry(Struct):
    resource: Raw = Raw(b"null")


class RawBundle(Struct):
    resourceType: str
    entry: list[RawEntry] = []


class RawRequest(Struct):
    hook: str
    hookInstance: str
    context: Context
    prefetch: dict[str, Raw] = {}


TYPED = msgspec.json.Decoder(Request)
ENVELOPE = msgspec.json.Decoder(RawRequest)
BUNDLE = msgspec.json.Decoder(RawBundle)
ONE = msgspec.json.Decoder(Resource)
PLAIN = msgspec.json.Decoder()


def per_resource(body: bytes) -> list[object]:
    """The envelope typed, then each resource decoded alone (a bad one is skipped)."""
    found: list[object] = []
    for value in ENVELOPE.decode(body).prefetch.values():
        raws = [value]
        try:
            bundle = BUNDLE.decode(value)
            if bundle.resourceType == "Bundle":
                raws = [entry.resource for entry in bundle.entry]
        except msgspec.ValidationError:
            pass
        for raw in raws:
            try:
                found.append(ONE.decode(raw))
            except msgspec.ValidationError:
                continue
    return found


def _ms(call: object, number: int = 200) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1000  # type: ignore[arg-type]


def main() -> None:
    files = inputs.synthea_files()
    bodies = {"synthea_1mb": inputs.synthea_body(inputs.file_near(1_000_000), "back_pain"),
              "synthea_largest": inputs.synthea_body(max(files, key=lambda p: p.stat().st_size),
                                                     "back_pain")}
    print("| Body | bytes | orjson.loads | msgspec untyped | typed, in one go | typed, "
          "resource by resource |")
    print("|---|---|---|---|---|---|")
    for name, body in bodies.items():
        cells = [_ms(lambda b=body: orjson.loads(b)), _ms(lambda b=body: PLAIN.decode(b)),
                 _ms(lambda b=body: TYPED.decode(b)), _ms(lambda b=body: per_resource(b))]
        print(f"| {name} | {len(body)} | " + " | ".join(f"{c:.3f} ms" for c in cells) + " |")


if __name__ == "__main__":
    main()
