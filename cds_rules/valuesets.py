"""Value sets: the pinned expansions of ``cds_rules/valuesets/*.json``, compiled once at import.

Each file is a FHIR R4 ``ValueSet`` (layout: :mod:`cds_rules.valueset_format`) for one
concept of :data:`cds_rules.model.CONCEPTS` (kind "finding", "quantity" or "medication"),
one order kind ("spine_mri", ...; kind "order") or one body site of :data:`SITE_SETS` (kind
"site": where an imaging series looked, never a finding). Only ``expansion.contains`` is compiled;
``compose`` says what is meant and :mod:`cds_rules.valueset_tool` checks the two agree.

Lookups are dictionary hits: exact ``(system, code)`` pairs, and for ICD-10 (WHO),
ICD-10-CM and OPCS-4 the code itself and each of its prefixes (``C79.51`` -> ``C7951``,
``C795``, ``C79``) against entries marked "descendants" (a category and everything below it),
minus entries marked "exclude". These codes match with or without the dot, in any case.
Code-system URIs are normalised (OID forms, trailing slash). A dm+d code is a SNOMED CT
identifier (UK drug extension), so dm+d entries are indexed under both systems.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from cds_rules import valueset_format as fmt
from cds_rules.concepts import CONCEPTS
from cds_rules.model import LOCAL_FINDING_SYSTEM

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"  # WHO ICD-10 (HL7 THO NamingSystem icd10)
ICD_SYSTEMS = frozenset({ICD10CM, ICD10})
# OPCS-4 (NHS procedures): HL7 UK / UK Core identifier system.
OPCS4 = "https://fhir.hl7.org.uk/Id/opcs-4"
# Classifications matched by category (code prefix), dot and case ignored.
PREFIX_SYSTEMS = ICD_SYSTEMS | {OPCS4}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CPT = "http://www.ama-assn.org/go/cpt"
DMD = "https://dmd.nhs.uk"  # NHS dictionary of medicines and devices (UK Core)
UCUM = "http://unitsofmeasure.org"
LOCAL = LOCAL_FINDING_SYSTEM

_SYSTEM_ALIASES: dict[str, str] = {
    "urn:oid:2.16.840.1.113883.6.96": SNOMED,
    "http://snomed.info/sct/": SNOMED,
    "https://snomed.info/sct": SNOMED,
    "urn:oid:2.16.840.1.113883.6.1": LOINC,
    "https://loinc.org": LOINC,
    "urn:oid:2.16.840.1.113883.6.90": ICD10CM,
    "http://hl7.org/fhir/sid/icd-10-us": ICD10CM,
    "urn:oid:2.16.840.1.113883.6.3": ICD10,
    "https://hl7.org/fhir/sid/icd-10": ICD10,
    "urn:oid:2.16.840.1.113883.6.88": RXNORM,
    "http://www.nlm.nih.gov/research/umls/rxnorm/": RXNORM,
    "urn:oid:2.16.840.1.113883.6.12": CPT,
    "http://www.ama-assn.org/go/cpt/": CPT,
    "http://dmd.nhs.uk": DMD,
    "https://dmd.nhs.uk/": DMD,
    "http://hl7.org/fhir/sid/ex-opcs4": OPCS4,
    # HL7 v2 table 0136 (yes/no): FHIR DSTU1-3 system and the HL7 v2 table OID.
    "http://hl7.org/fhir/v2/0136": "http://terminology.hl7.org/CodeSystem/v2-0136",
    "urn:oid:2.16.840.1.113883.12.136": "http://terminology.hl7.org/CodeSystem/v2-0136",
    # HL7 v2 table 0078 (interpretation codes): FHIR DSTU1-3 system.
    "http://hl7.org/fhir/v2/0078": "http://terminology.hl7.org/CodeSystem/v2-0078",
    "http://fhir.hl7.org.uk/Id/opcs-4": OPCS4,
    # FHIR DataAbsentReason: the FHIR STU3-and-earlier system and the code system's OID
    # (hl7.org/fhir/R4/codesystem-data-absent-reason.html: OID 2.16.840.1.113883.4.642.4.1048).
    "http://hl7.org/fhir/data-absent-reason":
        "http://terminology.hl7.org/CodeSystem/data-absent-reason",
    "urn:oid:2.16.840.1.113883.4.642.4.1048":
        "http://terminology.hl7.org/CodeSystem/data-absent-reason",
}

ORDER_KINDS: tuple[str, ...] = (
    "spine_mri", "spine_ct", "spine_xray", "emg_ncs", "physiotherapy",
    # every other order a card can suggest, so that none is suggested twice (clinical review)
    "lab_esr", "lab_crp", "blood_cultures", "fbc", "calcium", "myeloma_screen", "hla_b27_test",
    "urinalysis", "dxa", "emergency_department", "spinal_surgery_referral",
    "rheumatology_referral", "mscc_coordinator",
)
# Orders a completed one of which counts only within recent_order_days (orders.py).
SHORT_REUSE_KINDS: frozenset[str] = frozenset(ORDER_KINDS[5:])
SPINE_IMAGING_KINDS: frozenset[str] = frozenset({"spine_mri", "spine_ct", "spine_xray"})
# Body sites (kind "site"): codes of ImagingStudy.series.bodySite, kept apart from findings.
SITE_SETS: tuple[str, ...] = ("spine_body_site",)

Kind = Literal["finding", "quantity", "medication", "order", "site"]

# Observation value qualifiers and answers: a coded value that states the finding present or
# absent (record/negation.py; CLINICAL.md principle 2). SNOMED CT: 52101004 present /
# 2667000 absent: CLINICAL.md verified list. 10828004 positive / 260385009 negative: HL7
# COVID-19 Library IG value set covid19-pos-neg-ind-vs. 260373001 detected / 260415000 not
# detected: HL7 COVID-19 Library IG value set detected-not-detected-value-set. 373066001 yes /
# 373067005 no: HL7 Switzerland CH EMS value set yes-no-unknown (also ART-DECOR
# YesNoQualifier). HL7 v2 table 0136 (yes/no indicator) Y / N: HL7 Terminology (THO)
# ValueSet v2-0136 (its codes: v2-0532 Y / N) and the FHIR DSTU1 table (system
# http://hl7.org/fhir/v2/0136). LOINC answers: LA33-6 yes / LA32-8 no (HL7 PACIO cognitive
# status MDS examples, HL7 Questionnaire answerOptions); LA9633-4 present / LA9634-2 absent
# (HL7 Phenomics Exchange IG PhenotypicFeatureStatusValueSet); LA6576-8 positive /
# LA6577-6 negative (LOINC answer list LL2206-2 as quoted by the SMART Health Cards
# vaccination IG; mCODE HER2 and HL7 genomics-reporting examples); LA11882-0 detected /
# LA11883-8 not detected (LOINC answer list LL1055-4, same SMART Health Cards IG).
V2_0136 = "http://terminology.hl7.org/CodeSystem/v2-0136"
V2_0532 = "http://terminology.hl7.org/CodeSystem/v2-0532"
PRESENT_CODES: frozenset[tuple[str, str]] = frozenset({
    (SNOMED, "52101004"), (SNOMED, "10828004"), (SNOMED, "260373001"), (SNOMED, "373066001"),
    (V2_0136, "Y"), (V2_0532, "Y"),
    (LOINC, "LA33-6"), (LOINC, "LA9633-4"), (LOINC, "LA6576-8"), (LOINC, "LA11882-0"),
})
ABSENT_CODES: frozenset[tuple[str, str]] = frozenset({
    (SNOMED, "2667000"), (SNOMED, "260385009"), (SNOMED, "260415000"), (SNOMED, "373067005"),
    (V2_0136, "N"), (V2_0532, "N"),
    (LOINC, "LA32-8"), (LOINC, "LA9634-2"), (LOINC, "LA6577-6"), (LOINC, "LA11883-8"),
})

# A test result that is no result (record/observations.py, HLA-B27): indeterminate,
# equivocal, inconclusive or unknown. LOINC LA11884-6 Indeterminate / LA9663-1 Inconclusive
# (LOINC answers as listed by the HL7 Europe PROTECT-CHILD IG value sets detection-result-vs
# and lab-result-qualitative-vs, expanded by tx.fhir.org), LA11885-3 Equivocal (HL7 SMART
# Health Cards IG value set qualitative-lab-results-loinc), LA4489-6 Unknown (LOINC answer
# list LL2817-6 as quoted by the HL7 SDC IG). SNOMED CT 82334004 Indeterminate / 42425007
# Equivocal (HL7 mCODE STU1 ballot value set PositiveNegativeVS), 419984006 Inconclusive (HL7
# COVID-19 Library IG value set detected-not-detected-value-set), 280416009 Indeterminate
# result / 280414007 Equivocal result (HL7 eCR IG value set
# 2.16.840.1.113762.1.4.1146.1035 "Indeterminate or Equivocal Lab Result Value"), 261665006
# Unknown (mCODE YesNoUnknownVS). HL7 v2 table 0078 IND Indeterminate (v2.7 Interpretation
# Codes); HL7 v3 ObservationInterpretation IND Indeterminate (THO value set
# ObservationInterpretationDetected); v3 NullFlavor UNK Unknown (HL7 MDI IG yes-no-unknown).
V2_0078 = "http://terminology.hl7.org/CodeSystem/v2-0078"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V3_NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
INDETERMINATE_CODES: frozenset[tuple[str, str]] = frozenset({
    (LOINC, "LA11884-6"), (LOINC, "LA11885-3"), (LOINC, "LA9663-1"), (LOINC, "LA4489-6"),
    (SNOMED, "82334004"), (SNOMED, "42425007"), (SNOMED, "419984006"), (SNOMED, "280416009"),
    (SNOMED, "280414007"), (SNOMED, "261665006"),
    (V2_0078, "IND"), (V3_INTERPRETATION, "IND"), (V3_NULL_FLAVOR, "UNK"),
})

# Observation.dataAbsentReason (record/negation.py). FHIR R4 CodeSystem DataAbsentReason
# (http://terminology.hl7.org/CodeSystem/data-absent-reason, v4.0.1, 15 codes:
# hl7.org/fhir/R4/codesystem-data-absent-reason.html): unknown (asked-unknown, temp-unknown,
# not-asked, asked-declined), masked, not-applicable, unsupported, as-text, error
# (not-a-number, negative-infinity, positive-infinity), not-performed, not-permitted. Three
# say that nobody asked or looked, so nothing was recorded: not-asked ("the workflow didn't
# lead to this value being known"), not-performed ("the observation procedure (test, etc.)
# was not performed"), not-applicable ("there is no proper value for this element"). The
# others say a value was sought and is unknown, withheld, unrepresentable or elsewhere;
# not-permitted too ("the value is not permitted in this context", most often a code outside
# a required binding: a value exists). None of them denies a finding.
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NOTHING_RECORDED_REASONS: frozenset[str] = frozenset({
    "not-asked", "not-performed", "not-applicable"})

VALUESET_DIR = Path(__file__).resolve().parent / "valuesets"


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """One concept a code belongs to, with what the value-set entry adds."""

    concept: str
    laterality: Literal["left", "right", "bilateral"] | None = None
    history: bool = False  # e.g. Z85 "personal history of": never a current finding


@dataclass(frozen=True, slots=True)
class ValueSet:
    concept: str
    kind: Kind
    title: str
    version: str  # ValueSet.version of the file
    codes: frozenset[tuple[str, str]]
    icd_prefixes: frozenset[tuple[str, str]]  # (system, code without dot): and descendants
    entries: tuple[dict[str, Any], ...]


def normalise_system(system: object) -> str:
    if not isinstance(system, str):
        return ""
    s = system.strip()
    return _SYSTEM_ALIASES.get(s, _SYSTEM_ALIASES.get(s.rstrip("/"), s.rstrip("/")))


def normalise_icd10cm(code: object) -> str:
    """"m54.5" / "M545" / " M54.50 " -> "M545" / "M545" / "M5450"."""
    if not isinstance(code, str):
        return ""
    return code.strip().upper().replace(".", "")


def _load() -> dict[str, ValueSet]:
    sets: dict[str, ValueSet] = {}
    for path in sorted(VALUESET_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        concept = fmt.concept_of(raw)
        if raw.get("resourceType") != "ValueSet" or concept != path.stem:
            raise ValueError(f"{path.name}: not a ValueSet of concept {path.stem!r} "
                             "(convert with python -m tools.valueset_tool convert)")
        entries = tuple(fmt.entries(raw))
        sets[concept] = ValueSet(
            concept=concept,
            kind=fmt.kind_of(raw),  # type: ignore[arg-type]
            title=raw.get("title") or CONCEPTS.get(concept, concept),
            version=str(raw.get("version", "")),
            codes=frozenset(_key(e["system"], e["code"]) for e in entries
                            if not e.get("match")),
            icd_prefixes=frozenset(_key(e["system"], e["code"]) for e in entries
                                   if e.get("match") == "descendants"),
            entries=entries,
        )
        names = fmt.ext_values(raw, fmt.EXT_INGREDIENT_NAME)
        if names:
            _RAW_NAMES[concept] = [str(n) for n in names]
    return sets


def _key(system: object, code: str) -> tuple[str, str]:
    """The index key of a code: normalised system; ICD codes without dot, upper case."""
    sys_ = normalise_system(system)
    return (sys_, normalise_icd10cm(code) if sys_ in PREFIX_SYSTEMS else code.strip())


# Medication files may list ingredient names (no code: nothing to verify) as extensions:
# a product is recognised by the ingredient named in its display or text.
_RAW_NAMES: dict[str, list[str]] = {}


VALUE_SETS: dict[str, ValueSet] = _load()

# Indices: finding/quantity/medication concepts and order kinds are kept apart, so that
# concepts_for never returns an order kind and order_kinds_for never returns a finding.
_EXACT: dict[tuple[str, str], tuple[CodeMatch, ...]] = {}
# ICD codes matched with their descendants (by prefix), and ICD prefixes excluded from a
# concept (the longest matching prefix decides): keyed by (system, normalised prefix).
_ICD_PREFIX: dict[tuple[str, str], tuple[CodeMatch, ...]] = {}
_ICD_EXCLUDE: dict[tuple[str, str], frozenset[str]] = {}
_ORDER_EXACT: dict[tuple[str, str], tuple[str, ...]] = {}
_SITE_EXACT: dict[tuple[str, str], tuple[str, ...]] = {}
_MEDICATION_NAMES: dict[str, list[str]] = {}


def _add(index: dict[Any, tuple[CodeMatch, ...]], key: Any, match: CodeMatch) -> None:
    current = index.get(key, ())
    if all(m.concept != match.concept for m in current):
        index[key] = (*current, match)


def _index_entry(vs: ValueSet, entry: dict[str, Any]) -> None:
    key = _key(entry["system"], entry["code"])
    if vs.kind in ("order", "site"):
        index = _ORDER_EXACT if vs.kind == "order" else _SITE_EXACT
        index[key] = tuple(dict.fromkeys((*index.get(key, ()), vs.concept)))
        return
    match = CodeMatch(vs.concept, entry.get("laterality"), entry.get("status") == "history")
    how = entry.get("match")
    if how == "exclude":
        _ICD_EXCLUDE[key] = _ICD_EXCLUDE.get(key, frozenset()) | {vs.concept}
    elif how == "descendants":
        _add(_ICD_PREFIX, key, match)
    else:
        _add(_EXACT, key, match)
        if key[0] == DMD:  # the same identifier sent as SNOMED CT (UK Core medications)
            _add(_EXACT, (SNOMED, key[1]), match)
    if vs.kind == "medication" and key[0] == RXNORM and entry.get("ingredient", True):
        name = str(entry.get("display", "")).strip().lower()
        if name:
            _MEDICATION_NAMES.setdefault(vs.concept, []).append(name)


def _build_indices() -> None:
    for index in (_EXACT, _ICD_PREFIX, _ICD_EXCLUDE, _ORDER_EXACT, _SITE_EXACT,
                  _MEDICATION_NAMES):
        index.clear()
    for name, raw in _RAW_NAMES.items():
        _MEDICATION_NAMES.setdefault(name, []).extend(n.strip().lower() for n in raw if n.strip())
    for vs in VALUE_SETS.values():
        for entry in vs.entries:
            _index_entry(vs, entry)


_MEDICATION_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compile() -> None:
    """(Re)build every index from :data:`VALUE_SETS` (at import; after site codes)."""
    _build_indices()
    _MEDICATION_PATTERNS.clear()
    _MEDICATION_PATTERNS.update({
        concept: re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\b",
                            re.I)
        for concept, names in _MEDICATION_NAMES.items()})
    _icd_matches.cache_clear()
    _matches_of_text.cache_clear()


_SHIPPED: dict[str, ValueSet] = dict(VALUE_SETS)


def apply_site_codes(pairs: list[tuple[str, dict[str, Any]]]) -> None:
    """Make the shipped value sets plus ``pairs`` (concept, entry) the ones in use, replacing
    any site codes applied before (an empty list: the shipped value sets only). Validated
    pairs come from :func:`cds_rules.site_codes.load_file`; called once at start-up."""
    for name, shipped in _SHIPPED.items():
        extra = tuple(entry for concept, entry in pairs if concept == name)
        VALUE_SETS[name] = replace(
            shipped, codes=shipped.codes | {_key(e["system"], e["code"]) for e in extra},
            entries=shipped.entries + extra) if extra else shipped
    _compile()


@lru_cache(maxsize=8192)
def _icd_matches(system: str, code: str) -> tuple[CodeMatch, ...]:
    """Exact entries first, then the longest prefix (its attributes win); a concept whose
    longest matching prefix is an exclusion is not matched (e.g. Z85 but not Z85.828)."""
    found: dict[str, CodeMatch] = {m.concept: m for m in _EXACT.get((system, code), ())}
    excluded: set[str] = set()
    for n in range(len(code), 2, -1):
        excluded.update(_ICD_EXCLUDE.get((system, code[:n]), frozenset()) - found.keys())
        for m in _ICD_PREFIX.get((system, code[:n]), ()):
            if m.concept not in excluded:
                found.setdefault(m.concept, m)
    return tuple(found.values())


def matches(system: object, code: object) -> tuple[CodeMatch, ...]:
    """Every concept (not order kind) the code belongs to, with laterality/history marks."""
    if not isinstance(code, str) or not code:
        return ()
    if isinstance(system, str) and len(system) + len(code) <= _REMEMBERED_LENGTH:
        return _matches_of_text(system, code)
    return _matches_of(normalise_system(system), code)


# Longer (system, code) pairs are not remembered: no real one comes near, and a cache of
# long junk strings sent by a client would hold memory for nothing.
_REMEMBERED_LENGTH = 160


@lru_cache(maxsize=16384)
def _matches_of_text(system: str, code: str) -> tuple[CodeMatch, ...]:
    """:func:`matches` remembered per (system, code) as written: a record repeats the same
    few codes hundreds of times (a vital sign at every visit). Cleared by :func:`_compile`."""
    return _matches_of(normalise_system(system), code)


def _matches_of(sys_: str, code: str) -> tuple[CodeMatch, ...]:
    if sys_ in PREFIX_SYSTEMS:
        norm = normalise_icd10cm(code)
        return _icd_matches(sys_, norm) if 3 <= len(norm) <= 8 else ()
    return _EXACT.get((sys_, code.strip()), ())


_compile()


def concepts_for(system: object, code: object) -> tuple[str, ...]:
    """Concept names of :data:`CONCEPTS` that ``(system, code)`` belongs to (maybe several)."""
    return tuple(m.concept for m in matches(system, code))


def order_kinds_for(system: object, code: object) -> tuple[str, ...]:
    """Order kinds ("spine_mri", ...) that ``(system, code)`` belongs to."""
    if not isinstance(code, str) or not code:
        return ()
    return _ORDER_EXACT.get((normalise_system(system), code.strip()), ())


def sites_for(system: object, code: object) -> tuple[str, ...]:
    """Body sites of :data:`SITE_SETS` ("spine_body_site") that ``(system, code)`` names."""
    if not isinstance(code, str) or not code:
        return ()
    return _SITE_EXACT.get((normalise_system(system), code.strip()), ())


def medication_concepts_for_text(text: object) -> tuple[str, ...]:
    """Medication concepts whose ingredient name appears in ``text`` (RxNorm display or
    medication text): RxNorm product codes (SCD/SBD) are far too many to list, so a
    product is recognised by its ingredient name when its code is not an ingredient code."""
    if not isinstance(text, str) or not text:
        return ()
    return tuple(c for c, pattern in _MEDICATION_PATTERNS.items() if pattern.search(text))


def codes_of(concept: str) -> list[tuple[str, str]]:
    """Exact (system, code) pairs of a concept or order kind (ICD prefixes not included)."""
    vs = VALUE_SETS[concept]
    return sorted(vs.codes)


def concepts_of_kind(*kinds: str) -> list[str]:
    return [name for name, vs in VALUE_SETS.items() if vs.kind in kinds]


def knows(system: object, code: object) -> bool:
    """Is ``(system, code)`` in any value set: a concept (site codes included), an order kind
    or a body site?"""
    return bool(matches(system, code) or order_kinds_for(system, code)
                or sites_for(system, code))


def is_present_qualifier(system: object, code: object) -> bool:
    """Only a string code can be one (a malformed list or object is not, and is unhashable:
    the words of an unvalidated entry are read with these; review, thirteenth session)."""
    return isinstance(code, str) and (normalise_system(system), code) in PRESENT_CODES


def is_absent_qualifier(system: object, code: object) -> bool:
    return isinstance(code, str) and (normalise_system(system), code) in ABSENT_CODES


def is_indeterminate(system: object, code: object) -> bool:
    return isinstance(code, str) and (normalise_system(system), code) in INDETERMINATE_CODES
