"""One reading of a value set for the pages and the FHIR knowledge: title, version and the
codes (with where each was checked, and which were added by this site)."""

from __future__ import annotations

from dataclasses import dataclass

from cds_rules import CONCEPTS, VALUE_SETS


@dataclass(frozen=True, slots=True)
class CodeRow:
    system: str
    code: str
    display: str
    verified: str
    note: str = ""  # laterality / history / ICD-10-CM range or prefix
    site: bool = False  # added by this site (BACKPAIN_CDS_SITE_CODES)
    excluded: bool = False  # an ICD item the concept leaves out (e.g. C44 from cancer)


@dataclass(frozen=True, slots=True)
class ValueSetView:
    concept: str
    title: str
    kind: str
    version: str
    rows: tuple[CodeRow, ...]


def view(concept: str) -> ValueSetView:
    """The value set of ``concept`` (a CONCEPTS name or an order kind)."""
    vs = VALUE_SETS[concept]
    return ValueSetView(concept, vs.title or CONCEPTS.get(concept, concept), vs.kind,
                        vs.version, tuple(_row(entry) for entry in vs.entries))


def _row(entry: dict[str, object]) -> CodeRow:
    notes = [str(entry[k]) for k in ("laterality", "status") if entry.get(k)]
    if "range" in entry:
        return CodeRow("http://hl7.org/fhir/sid/icd-10-cm", str(entry["range"]),
                       str(entry.get("display", "")), str(entry.get("verified", "")),
                       "; ".join(["ICD-10-CM range: every code in it", *notes]))
    if "prefix" in entry:
        return CodeRow("http://hl7.org/fhir/sid/icd-10-cm", f"{entry['prefix']}*",
                       str(entry.get("display", "")), str(entry.get("verified", "")),
                       "; ".join(["ICD-10-CM prefix: the code and its children", *notes]))
    match = {"descendants": "ICD category: the code and every code below it",
             "exclude": "excluded: the code and every code below it"}.get(str(entry.get("match")))
    return CodeRow(str(entry.get("system", "")), str(entry.get("code", "")),
                   str(entry.get("display", "")), str(entry.get("verified", "")),
                   "; ".join([match, *notes] if match else notes),
                   site=bool(entry.get("site")), excluded=entry.get("match") == "exclude")
