"""Medications: MedicationRequest / MedicationStatement as facts, with status, systemic route
and duration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cds_rules import valuesets as vs
from cds_rules.bundles import parse_reference, reference_of
from cds_rules.fhir_time import (
    duration_of,
    parse_datetime,
    period_end,
    period_start,
)
from cds_rules.model import (
    FactStatus,
)
from cds_rules.record.codes import Hit, as_list, codings_of, concept_hits
from cds_rules.record.facts import make_fact
from cds_rules.record.state import Builder
from cds_rules.record.status import MEDICATION_IGNORED, status_code
from cds_rules.record.unreadable import set_aside

MEDICATION_HISTORY = {"completed", "stopped"}
_NON_SYSTEMIC = re.compile(
    r"\b(topical|cutaneous|transdermal|cream|ointment|lotion|gel|foam|shampoo|paste|"
    r"inhal\w*|inhaler|metered|powder for inhalation|dry powder|nasal|intranasal|"
    r"ophthalmic|eye|otic|ear|rectal|enema|suppository|vaginal|dental|mouthwash|"
    r"intra-?articular|intralesional)\b",
    re.I,
)
_SYSTEMIC_CHECKED = frozenset({"systemic_corticosteroid", "immunosuppressant_drug"})


def _medication_concept(builder: Builder, resource: dict[str, Any]) -> dict[str, Any] | None:
    """The medicine's CodeableConcept: ``medicationCodeableConcept``, else the code of the
    referenced Medication (contained or in the prefetch), else the Reference's ``display``
    as its text. FHIR R4 allows ``medication[x]`` as a Reference, and an EHR sends one
    without the Medication when the prefetch has no ``_include`` (Reference.display is its
    text): the product words are then read as a CodeableConcept's text would be."""
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        return concept
    reference = resource.get("medicationReference")
    code = _referenced_code(builder, resource, reference_of(reference))
    if code is not None:
        return code
    display = reference.get("display") if isinstance(reference, dict) else None
    return {"text": display} if isinstance(display, str) and display.strip() else None


def _referenced_code(builder: Builder, resource: dict[str, Any],
                     ref: str | None) -> dict[str, Any] | None:
    """The ``code`` of the Medication ``ref`` names (contained, or sent in the prefetch)."""
    if ref is None:
        return None
    medication: dict[str, Any] | None = None
    if ref.startswith("#"):
        medication = next((c for c in as_list(resource.get("contained"))
                           if isinstance(c, dict) and c.get("id") == ref[1:]
                           and c.get("resourceType") == "Medication"), None)
    else:
        _, rid = parse_reference(ref)
        found = builder.medications.get(rid or "")
        checked = builder.noting_mended(found, builder.check(found)) if found else None
        medication = found if checked is not None else None
    code = medication.get("code") if medication is not None else None
    return code if isinstance(code, dict) else None


def _medication_hits(builder: Builder, concept: dict[str, Any]) -> list[Hit]:
    hits = {h.concept: h for h in concept_hits(concept)}
    texts = [c.get("display") for c in codings_of(concept)] + [concept.get("text")]
    for text in texts:
        for name in _concepts_for_text(builder, text):
            if name not in hits:
                coding = next((c for c in codings_of(concept) if c.get("display") == text),
                              {"display": text})
                hits[name] = Hit(name, coding, None, False)
    return list(hits.values())


def _concepts_for_text(builder: Builder, text: object) -> tuple[str, ...]:
    """:func:`~cds_rules.valuesets.medication_concepts_for_text`, once per text and call: a
    record repeats the same products (each runs every ingredient pattern)."""
    if not isinstance(text, str):
        return ()
    found = builder.medication_texts.get(text)
    if found is None:
        found = builder.medication_texts[text] = vs.medication_concepts_for_text(text)
    return found


def medication_hits(builder: Builder, resource: dict[str, Any]) -> list[Hit]:
    """What a MedicationRequest or MedicationStatement names that a rule reads: its code,
    its Medication's, its words (also what is set aside when it cannot be read)."""
    concept = _medication_concept(builder, resource)
    return _medication_hits(builder, concept) if concept else []


def read_medication(builder: Builder, resource: dict[str, Any]) -> bool:
    concept = _medication_concept(builder, resource)
    hits = _medication_hits(builder, concept) if concept else []  # medication_hits' answer
    if not hits:
        return builder.unrecognised()
    checked = builder.validated(resource)
    if checked is None:
        set_aside(builder, resource, hits)  # steroids a fracture rule reads, say
        return False
    status = status_code(checked, "status")
    if status in MEDICATION_IGNORED or checked.get("doNotPerform") is True:
        return False
    start, end, ongoing = _medication_span(checked)
    now = builder.record.now
    fact_status = FactStatus.HISTORY if status in MEDICATION_HISTORY else FactStatus.CURRENT
    if end is None and ongoing and fact_status is FactStatus.CURRENT:
        end = now
    days = None
    if start is not None and end is not None:
        days = float(max(0, (min(end, now) - start).days))
    product = " ".join(str(t) for t in [concept.get("text") if concept else None,
                                        *(c.get("display") for c in codings_of(concept))] if t)
    routes = " ".join(_route_texts(checked))
    added = False
    for hit in hits:
        if hit.concept in _SYSTEMIC_CHECKED and (_NON_SYSTEMIC.search(product)
                                                 or _NON_SYSTEMIC.search(routes)):
            continue
        builder.record.facts.append(make_fact(hit, checked, start, fact_status, None, routes,
                                              concept_cc=concept, value=days,
                                              unit="d" if days is not None else None))
        added = True
    return added


def _dosages(resource: dict[str, Any]) -> list[dict[str, Any]]:
    dosages = as_list(resource.get("dosageInstruction")) or as_list(resource.get("dosage"))
    return [d for d in dosages if isinstance(d, dict)]


def _route_texts(resource: dict[str, Any]) -> Iterator[str]:
    for dosage in _dosages(resource):
        route = dosage.get("route")
        if isinstance(route, dict):
            if isinstance(route.get("text"), str):
                yield route["text"]
            for coding in codings_of(route):
                if isinstance(coding.get("display"), str):
                    yield coding["display"]


def _medication_span(resource: dict[str, Any]) -> tuple[datetime | None, datetime | None, bool]:
    """(start, end, ongoing) of a medication: bounds of the dosage timing, the statement's
    effective period, authoredOn / dateAsserted as the start of last resort."""
    start = end = None
    for dosage in _dosages(resource):
        timing = dosage.get("timing")
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        if isinstance(repeat, dict):
            bounds = repeat.get("boundsPeriod")
            start = start or period_start(bounds)
            end = end or period_end(bounds)
            span = duration_of(repeat.get("boundsDuration"))
            if span is not None and end is None:
                begin = start or parse_datetime(resource.get("authoredOn"))
                end = begin + span if begin is not None else None
    effective = resource.get("effectivePeriod")
    start = start or period_start(effective) or parse_datetime(resource.get("effectiveDateTime"))
    end = end or period_end(effective)
    start = start or parse_datetime(resource.get("authoredOn")) or parse_datetime(
        resource.get("dateAsserted"))
    if end is None:
        dispense = resource.get("dispenseRequest")
        if isinstance(dispense, dict):
            end = period_end(dispense.get("validityPeriod"))
    ongoing = end is None and status_code(resource, "status") in (None, "active", "on-hold",
                                                                  "unknown")
    return start, end, ongoing
