"""Reading codes: the concepts and order kinds a CodeableConcept names, and the labels and
sources of what the record keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cds_rules import valuesets as vs

Side = Literal["left", "right", "bilateral"]
OrderState = Literal["draft", "active", "completed"]



def as_list(value: object) -> list[Any]:
    """A JSON array as a list; anything else (junk before validation) as empty."""
    return value if isinstance(value, list) else []


def readable_notes(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """An entry's notes (``Annotation``) that have a text to read (a non-blank string; one
    note sent without its list is read too): read leniently, outside the R4B check."""
    notes = entry.get("note")
    return [note for note in ([notes] if isinstance(notes, dict) else as_list(notes))
            if isinstance(note, dict) and isinstance(note.get("text"), str)
            and note["text"].strip()]


def codings_of(concept: object) -> list[dict[str, Any]]:
    """The Coding dicts of a CodeableConcept (junk entries dropped)."""
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return []
    return [c for c in codings if isinstance(c, dict)]


def concepts_list(value: object) -> list[dict[str, Any]]:
    """A CodeableConcept or a list of them, as a list."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def label_of(coding: dict[str, Any] | None, concept: object, fallback: str) -> str:
    if coding is not None and isinstance(coding.get("display"), str) and coding["display"]:
        return str(coding["display"])
    if isinstance(concept, dict) and isinstance(concept.get("text"), str) and concept["text"]:
        return str(concept["text"])
    return fallback


def source_of(resource: dict[str, Any]) -> str:
    rid = resource.get("id")
    rtype = resource.get("resourceType", "Resource")
    return f"{rtype}/{rid}" if isinstance(rid, str) and rid else f"{rtype}/(no id)"


@dataclass(frozen=True, slots=True)
class Hit:
    concept: str
    coding: dict[str, Any]
    laterality: Side | None
    history: bool


def concept_hits(concept: object) -> list[Hit]:
    """Concepts recognised in a CodeableConcept, one hit per concept (first coding wins,
    but a coding that carries a side beats one that does not).

    Most codes of a record are in no value set (vital signs, labs): for them this builds
    nothing (no list of codings, no dict), the cost that counts on large records (#15)."""
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    if not isinstance(codings, list):
        if not isinstance(codings, dict):
            return []
        # one Coding where a list belongs: the entry fails validation, and its red flag is
        # named rather than passed over (record/unreadable.py)
        codings = [codings]
    found: dict[str, Hit] = {}
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        for match in vs.matches(coding.get("system"), coding.get("code")):
            hit = Hit(match.concept, coding, match.laterality, match.history)
            old = found.get(match.concept)
            if old is None or (old.laterality is None and hit.laterality is not None):
                found[match.concept] = hit
    return list(found.values()) if found else []


def listed_concept_hits(concepts: list[Any]) -> list[Hit]:
    """:func:`concept_hits` of a list of CodeableConcepts read as one (an entry's ``code``
    sent as a list: not valid FHIR, set aside, and its red flags named rather than passed
    over: record/unreadable.py). One hit per concept, chosen as :func:`concept_hits` does."""
    codings = [coding for concept in concepts if isinstance(concept, dict)
               for coding in _codings_as_sent(concept.get("coding"))]
    return concept_hits({"coding": codings})


def _codings_as_sent(codings: object) -> list[Any]:
    """A ``coding`` element as a list: a list as it is, one Coding where a list belongs as
    a list of one, anything else as none. :func:`concept_hits` reads it the same way
    inline: a call there costs 0.2 % of a 1 MB patient's call (#15, measured)."""
    if isinstance(codings, list):
        return codings
    return [codings] if isinstance(codings, dict) else []


def order_hits(concept: object) -> list[tuple[str, dict[str, Any]]]:
    found: dict[str, dict[str, Any]] = {}
    for coding in codings_of(concept):
        for kind in vs.order_kinds_for(coding.get("system"), coding.get("code")):
            found.setdefault(kind, coding)
    return list(found.items())




def misshapen_order_hits(code: object) -> list[tuple[str, dict[str, Any]]]:
    """:func:`order_hits` of a ``code`` of the wrong shape: sent as a list of
    CodeableConcepts, or with one Coding where the list of them belongs. Not valid FHIR
    (the entry is not read), but it still says what is ordered (record/orders.py)."""
    concepts = code if isinstance(code, list) else [code]
    codings = [coding for concept in concepts if isinstance(concept, dict)
               for coding in _codings_as_sent(concept.get("coding"))]
    return order_hits({"coding": codings})
