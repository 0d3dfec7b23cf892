"""Why ``backpain-cds evaluate`` gave the cards it gave (no ``register``: not a command).

The core reports counts (:class:`cds_rules.model.DataQuality`); a person checking a
Bundle needs names: which resources were dropped as invalid and why, which carry only
codes no rule reads, and why there are no cards at all (no back-pain context, a minor,
a deceased patient). The per-resource attribution asks the core itself, one resource at
a time, so it can never disagree with what the core did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cds_rules import (
    Evaluation,
    HookRequest,
    RuleSettings,
    build_record,
    has_context,
    is_known_minor,
    why_invalid,
)

LISTED = 15  # resources named per list; the rest are counted
MAX_ATTRIBUTED = 5000  # beyond this many resources, counts only (a CLI must stay quick)


def explain(result: Evaluation, request: HookRequest, now: datetime,
            settings: RuleSettings) -> list[str]:
    """Lines for the reader: the data line, the reasons for no cards, the lists."""
    q = result.quality
    lines = [f"Data: {q.resources_seen} resource(s) seen, {q.resources_used} used, "
             f"{q.skipped_invalid} dropped as invalid, "
             + (f"{q.reader_faults} not read for a fault in the service, "
                if q.reader_faults else "")
             + f"{q.other_patient_dropped} about "
             f"another patient, {q.unrecognised_codes} with codes no rule reads"
             + (f", {q.unrecognised_units} value(s) in units we cannot convert"
                if q.unrecognised_units else "")]
    lines += [f"Could not read: {gap}" for gap in q.data_gaps]
    if not result.cards:
        lines += [f"No cards: {reason}" for reason in why_none(request, now, settings)]
    named = attribute(request, now, settings)
    lines += _listed("Dropped as invalid", named.invalid)
    lines += _listed("Not read: a fault in the service (logged)", named.faults)
    lines += _listed("Codes no rule reads", named.unrecognised)
    return lines


def why_none(request: HookRequest, now: datetime, settings: RuleSettings) -> list[str]:
    record = build_record(request, now, settings)
    reasons = []
    if is_known_minor(record):
        reasons.append(f"the patient is {record.age}: under 18 is out of scope")
    elif not has_context(record, request.hook, request.selections):
        reasons.append("no back-pain context (no back pain, sciatica or leg-symptom "
                       "condition, and no draft spine imaging or EMG/NCS order), so no rule "
                       "ran")
    else:
        reasons.append("the rules ran and none fired (or a snoozed or switched-off topic)")
    deceased = _deceased(request)
    if deceased:
        reasons.append(f"the Patient is recorded as deceased ({deceased})")
    return reasons


def _deceased(request: HookRequest) -> str | None:
    for resource in request.resources:
        if (isinstance(resource, dict) and resource.get("resourceType") == "Patient"
                and resource.get("id") == request.patient_id):
            if resource.get("deceasedDateTime"):
                return f"deceasedDateTime {resource['deceasedDateTime']}"
            if resource.get("deceasedBoolean") is True:
                return "deceasedBoolean true"
    return None


@dataclass(slots=True)
class Attributed:
    """The resources left out, named: invalid (and why), not read for a fault in the
    service, with codes no rule reads (and which)."""

    invalid: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)


def attribute(request: HookRequest, now: datetime, settings: RuleSettings) -> Attributed:
    """The resources left out, named: the core builds a record from the Patient and each
    resource alone, and its counters say what happened to that resource."""
    # every mini-record has the Patient (onsetAge needs the birth date) and the
    # Medication resources (a MedicationRequest may name one)
    patients = tuple(r for r in request.resources if isinstance(r, dict)
                     and r.get("resourceType") in ("Patient", "Medication"))
    others = [r for r in request.resources if r not in patients]
    named = Attributed()
    if len(others) > MAX_ATTRIBUTED:
        return named
    base = build_record(_alone(request, patients), now, settings).quality
    named.invalid = [f"{_name(p)}: {why_invalid(p)}" for p in patients
                     if base.skipped_invalid and p.get("resourceType") == "Patient"]
    for resource in others:
        quality = build_record(_alone(request, (*patients, resource)), now, settings).quality
        if quality.skipped_invalid > base.skipped_invalid:
            named.invalid.append(f"{_name(resource)}: {why_invalid(resource)}")
        elif quality.reader_faults > base.reader_faults:
            named.faults.append(_name(resource))
        elif quality.unrecognised_codes > base.unrecognised_codes:
            codes = ", ".join(_codes(resource)) or "no code"
            named.unrecognised.append(f"{_name(resource)}: {codes}")
    return named


def _alone(request: HookRequest, resources: tuple[Any, ...]) -> HookRequest:
    return HookRequest(hook=request.hook, patient_id=request.patient_id, resources=resources,
                       patient_references=request.patient_references)


def _name(resource: Any) -> str:
    if not isinstance(resource, dict):
        return f"(not a resource: {type(resource).__name__})"
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '?')}"


def _codes(resource: dict[str, Any]) -> Iterator[str]:
    for key in ("code", "medicationCodeableConcept", "procedureCode"):
        concepts = resource.get(key)
        for concept in concepts if isinstance(concepts, list) else [concepts]:
            if isinstance(concept, dict):
                for coding in concept.get("coding") or []:
                    if isinstance(coding, dict):
                        yield f"{coding.get('system', '?')}|{coding.get('code', '?')}"


def _listed(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lines = [f"{title} ({len(items)}):"]
    lines += [f"  - {item}" for item in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(f"  ... and {len(items) - LISTED} more")
    return lines
