"""Benchmark inputs: CDS Hooks request bodies built from scenarios and Synthea patients.

Synthea files are one-patient *transaction* Bundles with ``urn:uuid:`` references. An EHR
would answer our prefetch templates with *searchset* Bundles per resource type and
``Type/id`` references, so that is what we build. Each patient also gets a back-pain
can have back pain with leg symptoms added (and red flags), so that the rules do real
work instead of stopping at the back-pain context gate; the benchmark reports both.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

SYNTHEA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "synthea-r4"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

# Resource type -> prefetch key, as declared in discovery (cds_rules.requirements).
PREFETCH_KEY_OF_TYPE = {
    "Condition": "conditions",
    "Observation": "observations",
    "MedicationRequest": "medicationRequests",
    "MedicationStatement": "medicationStatements",
    "ServiceRequest": "serviceRequests",
    "Procedure": "procedures",
    "DiagnosticReport": "diagnosticReports",
    "ImagingStudy": "imagingStudies",
}
ALL_KEYS = ("patient", *PREFETCH_KEY_OF_TYPE.values())


def synthea_files() -> list[Path]:
    """The Synthea patients, smallest first (empty when ../shared is absent)."""
    if not SYNTHEA_DIR.is_dir():
        return []
    return sorted(SYNTHEA_DIR.glob("*.json"), key=lambda p: p.stat().st_size)


def file_near(size_bytes: int) -> Path:
    """The Synthea file whose size is closest to ``size_bytes``."""
    return min(synthea_files(), key=lambda p: abs(p.stat().st_size - size_bytes))


def _rewrite_refs(node: Any, ids: dict[str, str]) -> Any:
    """Replace ``urn:uuid:X`` references by ``Type/X`` the way a FHIR server would."""
    if isinstance(node, dict):
        return {k: _rewrite_refs(v, ids) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, ids) for v in node]
    if isinstance(node, str) and node.startswith("urn:uuid:"):
        return ids.get(node, node)
    return node


def synthea_resources(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(patient id, resources with server-style references) of one Synthea Bundle."""
    bundle = orjson.loads(path.read_bytes())
    entries = bundle.get("entry", [])
    ids = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in entries
        if "fullUrl" in e and "id" in e.get("resource", {})
    }
    resources = [_rewrite_refs(e["resource"], ids) for e in entries if "resource" in e]
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    return patient_id, resources


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


HL7 = "http://terminology.hl7.org/CodeSystem/"


def _condition(patient_id: str, key: str, code: tuple[str, str, str],
               onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": f"bench-{key}-{patient_id[:8]}",
        "clinicalStatus": _concept(HL7 + "condition-clinical", "active", "Active"),
        "verificationStatus": _concept(HL7 + "condition-ver-status", "confirmed", "Confirmed"),
        "code": _concept(*code),
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": onset,
    }


SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _temperature(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"bench-temp-{patient_id[:8]}",
        "status": "final",
        "code": _concept("http://loinc.org", "8310-5", "Body temperature"),
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2026-10-30T09:00:00Z",
        "valueQuantity": {"value": 38.6, "unit": "Cel",
                          "system": "http://unitsofmeasure.org", "code": "Cel"},
    }


def seeded_back_pain(patient_id: str) -> list[dict[str, Any]]:
    """A low back pain diagnosis and a recent fever: the Synthea inputs of the equivalence
    snapshots (tools.snapshots); keep them as they are."""
    return [
        _condition(patient_id, "lbp", (SNOMED, "279039007", "Low back pain"), "2026-10-20"),
        _temperature(patient_id),
    ]


def seeded_leg_symptoms(patient_id: str) -> list[dict[str, Any]]:
    """Acute low back pain with sciatica and leg pain (every rule family reads the record;
    no red flag: a conservative-care card)."""
    return [
        _condition(patient_id, "lbp", (SNOMED, "279039007", "Low back pain"), "2026-10-20"),
        _condition(patient_id, "sciatica", (SNOMED, "23056005", "Sciatica"), "2026-10-22"),
        _condition(patient_id, "legpain", (ICD10CM, "M79.605", "Pain in left leg"),
                   "2026-10-22"),
    ]


def seeded_red_flags(patient_id: str) -> list[dict[str, Any]]:
    """Back pain and leg symptoms plus new urinary retention and a fever of 38.6 °C
    (cauda equina and spinal infection red flags: critical and warning cards)."""
    return [
        *seeded_leg_symptoms(patient_id),
        _condition(patient_id, "retention", (SNOMED, "267064002", "Retention of urine"),
                   "2026-10-30"),
        _temperature(patient_id),
    ]


# What is added to a Synthea patient: nothing (most stop at the back-pain gate, before
# the rules), back pain with leg symptoms, or that plus red flags.
VARIANTS: dict[str, Any] = {
    "without": lambda patient_id: [],
    "back_pain": seeded_leg_symptoms,
    "red_flags": seeded_red_flags,
}


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def request_body(patient_id: str, resources: list[dict[str, Any]]) -> bytes:
    """A patient-view request whose prefetch carries ``resources`` (all keys filled)."""
    by_key: dict[str, list[dict[str, Any]]] = {key: [] for key in PREFETCH_KEY_OF_TYPE.values()}
    patient: dict[str, Any] | None = None
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Patient":
            patient = resource
        elif kind in PREFETCH_KEY_OF_TYPE:
            by_key[PREFETCH_KEY_OF_TYPE[kind]].append(resource)
    prefetch: dict[str, Any] = {"patient": patient}
    prefetch.update({key: _searchset(items) for key, items in by_key.items()})
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": patient_id},
        "prefetch": prefetch,
    }
    return orjson.dumps(body)


def synthea_body(path: Path, variant: str = "back_pain") -> bytes:
    """A request for the Synthea patient in ``path`` with :data:`VARIANTS` ``variant``
    (a patient presenting with back pain is alive: Synthea's death date is dropped)."""
    patient_id, resources = synthea_resources(path)
    added = VARIANTS[variant](patient_id)
    if added:
        resources = [_alive(r) for r in resources]
    return request_body(patient_id, resources + added)


def _alive(resource: dict[str, Any]) -> dict[str, Any]:
    if resource.get("resourceType") != "Patient":
        return resource
    return {k: v for k, v in resource.items() if not k.startswith("deceased")}


def sized_body(resource_count: int, source: Path) -> bytes:
    """A request with about ``resource_count`` resources, cloned from a Synthea patient.

    Clinical resources (those a prefetch would carry) are cycled with fresh ids, so the
    mix of types stays realistic as the count grows.
    """
    patient_id, resources = synthea_resources(source)
    patient = _alive(next(r for r in resources if r["resourceType"] == "Patient"))
    pool = [r for r in resources if r["resourceType"] in PREFETCH_KEY_OF_TYPE]
    seeded = seeded_leg_symptoms(patient_id)
    wanted = max(resource_count - 1 - len(seeded), 0)
    clones = [_clone(pool[i % len(pool)], i) for i in range(wanted)]
    return request_body(patient_id, [patient, *seeded, *clones])


def _clone(resource: dict[str, Any], index: int) -> dict[str, Any]:
    clone = copy.deepcopy(resource)
    clone["id"] = f"{resource['id'][:20]}-{index}"
    return clone


SMALL_SCENARIO = "cc-acute-lbp-snomed"  # 34, acute low back pain: one info card


def small_bodies(now: datetime) -> tuple[str, dict[str, bytes]]:
    """(service id, {"cards": body, "card_less": body}) of the small scenario, its dates
    moved so that its ``now`` falls on ``now``. The card-less body is the same call with the
    patient made 16 years old (the service is for adults: the same record, no card), so
    the two differ only by the card path."""
    import fhir_samples
    from tests.ops_support import shift_dates

    scenario = fhir_samples.load(SMALL_SCENARIO)
    delta = now.replace(microsecond=0) - scenario.now
    with_card = scenario.request_body()
    card_less = scenario.request_body()
    born = scenario.now.date().replace(year=scenario.now.year - 16)
    card_less["prefetch"]["patient"]["birthDate"] = born.isoformat()
    service = f"back-pain-{scenario.hook}"
    return service, {"cards": orjson.dumps(shift_dates(with_card, delta)),
                     "card_less": orjson.dumps(shift_dates(card_less, delta))}


def iter_sweep(counts: tuple[int, ...], source: Path) -> Iterator[tuple[int, bytes]]:
    for count in counts:
        yield count, sized_body(count, source)


def body_under(limit: int, source: Path) -> bytes:
    """The largest :func:`sized_body` (in steps of 1 %) that fits in ``limit`` bytes."""
    per_resource = len(sized_body(1000, source)) / 1000
    count = int(limit / per_resource)
    body = sized_body(count, source)
    while len(body) > limit:
        count = int(count * 0.99)
        body = sized_body(count, source)
    return body
