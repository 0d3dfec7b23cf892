"""Where an imaging study looked: whether words or an ImagingStudy series' body site name
the spine below the neck, and which segments of the spine (cervical, thoracic, lumbar,
sacral) a spine study images.

A study of the neck alone does not image the lumbar canal: it never stands a low back red
flag's "no MRI since" down (value set spine_body_site leaves the cervical spine out for the
same reason). A study of the thoracic spine alone is a spine study, but it cannot show the
cauda equina either: its segments say so (:attr:`cds_rules.model.Order.segments`).
"""

from __future__ import annotations

import re
from typing import Any

from cds_rules import valuesets as vs
from cds_rules.model import CERVICAL, LUMBAR, SACRAL, THORACIC

# DICOM Body Part Examined (0018,0015) defined terms, DICOM PS3.16 Annex L (Table L-1,
# "Correspondence of Anatomic Region Codes and Body Part Examined Defined Terms"), checked
# December 2026 against the extraction in bvdh/dicom-terminology-in-fhir
# (CodeSystem-BodyPartExamined.fsh, "codes extracted from DICOM PS3.16 Table L-1 and L-2",
# version 2026.2): SPINE "Spine", CSPINE "Cervical spine", CTSPINE "Cervico-thoracic spine",
# TSPINE "Thoracic spine", TLSPINE "Thoraco-lumbar spine", LSPINE "Lumbar spine", LSSPINE
# "Lumbo-sacral spine", SSPINE "Sacrum", COCCYX "Coccyx", WHOLEBODY "Entire body". These
# are attribute values, not codes of a code system, yet PACS feeds put them in
# ImagingStudy.series.bodySite (R4: a Coding, SNOMED CT by example) as the code, with any
# system or none, or as the display. The terms below the neck count as a spine site, as
# their SNOMED CT codes in spine_body_site do; CSPINE and CTSPINE (the neck), SSPINE and
# COCCYX (left out of spine_body_site too) and WHOLEBODY (a whole-body survey, not a spine
# protocol) do not.
BODY_PART_SPINE_BELOW_THE_NECK = frozenset({"SPINE", "TSPINE", "TLSPINE", "LSPINE", "LSSPINE"})

_SPINE_WORDS = re.compile(r"\b(spine|spinal|lumbar|lumbosacral|sacrum|sacral|vertebra\w*|"
                          r"thoracic spine|l-spine|t-spine|lspine|tspine|lsspine|tlspine|"
                          r"thoraco-?lumbar|cauda equina)\b", re.I)
_NECK_WORDS = re.compile(r"\b(cervical\w*|cervico\w*|cerv|c[- ]?spine|ctspine|neck)\b", re.I)
# "cauda equina": a cauda equina protocol MRI images the lumbosacral canal (GIRFT 2023).
_BELOW_THE_NECK = re.compile(r"\b(lumbar|lumbosacral|sacrum|sacral|thoracic|thoraco-?lumbar|"
                             r"l[- ]?spine|t[- ]?spine|lsspine|tlspine|cauda equina|"
                             r"(?:whole|entire|full|total)[- ]spine)\b", re.I)


def names_the_spine(text: object) -> bool:
    """Words naming the spine below the neck ("MRI lumbar spine", "MR LSPINE", "whole
    spine", "MRI cauda equina protocol"); the cervical spine alone ("MRI cervical spine",
    "C-spine", "MR CSPINE") does not count."""
    if not isinstance(text, str) or not _SPINE_WORDS.search(text):
        return False
    return not _NECK_WORDS.search(text) or bool(_BELOW_THE_NECK.search(text))


def spine_site(site: object) -> bool:
    """A series body site (a Coding) in the spine below the neck: its code is in the
    spine_body_site value set or is a Body Part Examined term of the spine below the neck
    (any system), or its display names the spine."""
    if not isinstance(site, dict):
        return False
    code = site.get("code")
    if "spine_body_site" in vs.sites_for(site.get("system"), code):
        return True
    if isinstance(code, str) and code.strip().upper() in BODY_PART_SPINE_BELOW_THE_NECK:
        return True
    return names_the_spine(site.get("display"))


# The segments each Body Part Examined term of the spine names (its PS3.16 code meaning).
_BODY_PART_SEGMENTS: dict[str, frozenset[str]] = {
    "SPINE": frozenset(),  # "Spine": the region is not said
    "CSPINE": frozenset({CERVICAL}),
    "CTSPINE": frozenset({CERVICAL, THORACIC}),
    "TSPINE": frozenset({THORACIC}),
    "TLSPINE": frozenset({THORACIC, LUMBAR}),
    "LSPINE": frozenset({LUMBAR}),
    "LSSPINE": frozenset({LUMBAR, SACRAL}),
    "SSPINE": frozenset({SACRAL}),
    "COCCYX": frozenset({SACRAL}),
}
# Words naming each segment. Whole-spine words name cervical, thoracic and lumbar (SNOMED
# CT 411611000119102, LOINC 30854-4: "cervical, thoracic and lumbar spine"). "Dorsal spine"
# is the thoracic spine (British usage); a cauda equina protocol images the lumbosacral
# canal. Read only for a study already known to be spine imaging.
_SEGMENT_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (segment, re.compile(rf"\b(?:{pattern})\b", re.I)) for segment, pattern in (
        (CERVICAL, r"cervical\w*|cervico\w*|cerv|c[- ]?spine|ctspine|neck"),
        (THORACIC, r"thoracic|thoraco\w*|cervico-?thoracic|t[- ]?spine|tspine|ctspine|tlspine|"
                   r"t[- /]?l[- ]spine|dorsal[- ]spine|d[- ]spine|dorso-?lumbar"),
        (LUMBAR, r"lumbar|lumbo\w*|thoraco-?lumbar|dorso-?lumbar|l[- ]?spine|lspine|lsspine|"
                 r"tlspine|t[- /]?l[- ]spine|l[- /]?s[- ]spine|cauda equina"),
        (SACRAL, r"sacrum|sacral|lumbo-?sacral|lsspine|sspine|l[- /]?s[- ]spine|coccy\w*"),
    ))
_WHOLE_SPINE_WORDS = re.compile(r"\b(?:whole|entire|full|total|complete)[- ]spine\b", re.I)
WHOLE_SPINE: frozenset[str] = frozenset({CERVICAL, THORACIC, LUMBAR})
_IMAGING_SETS = ("spine_mri", "spine_ct", "spine_xray", "spine_body_site")


def segments_of_text(text: object) -> frozenset[str]:
    """The spine segments words name ("MRI thoracic spine": thoracic; "MR LSSPINE":
    lumbar and sacral; "MRI whole spine": cervical, thoracic, lumbar); empty when they name
    none ("MRI of spine")."""
    if not isinstance(text, str) or not text:
        return frozenset()
    found = {segment for segment, words in _SEGMENT_WORDS if words.search(text)}
    if _WHOLE_SPINE_WORDS.search(text):
        found |= WHOLE_SPINE
    return frozenset(found)


def segments_of_code(system: object, code: object) -> frozenset[str] | None:
    """The segments a spine imaging or body-site code names, as the display of its value-set
    entry says (value sets spine_mri, spine_ct, spine_xray, spine_body_site, site codes
    included: "MR Thoracic spine WO contrast" is thoracic); None for a code no such value
    set lists."""
    if not isinstance(code, str) or not code.strip():
        return None
    return _code_segments().get((vs.normalise_system(system), code.strip()))


# The table below, with the value sets it was built from (kept, and compared by identity:
# site codes replace the value sets once at start-up).
_TABLE: dict[str, Any] = {}


def _code_segments() -> dict[tuple[str, str], frozenset[str]]:
    """(system, code) -> segments, from the value sets in use."""
    sets = tuple(vs.VALUE_SETS[name] for name in _IMAGING_SETS)
    built = _TABLE.get("sets")
    if built is None or any(a is not b for a, b in zip(built, sets, strict=True)):
        table: dict[tuple[str, str], frozenset[str]] = {}
        for value_set in sets:
            for entry in value_set.entries:
                key = (vs.normalise_system(entry.get("system")),
                       str(entry.get("code", "")).strip())
                table[key] = table.get(key, frozenset()) | segments_of_text(entry.get("display"))
        _TABLE.update(sets=sets, table=table)
    result: dict[tuple[str, str], frozenset[str]] = _TABLE["table"]
    return result


def segments_of_concept(concept: object) -> frozenset[str]:
    """The segments an order's CodeableConcept names: its codes, as their value sets say;
    only when none of them names a segment, the words of its text and displays (a code
    that names a region is taken as it is: "MR Lumbar spine" with the text "MRI thoracic
    spine" is lumbar)."""
    if not isinstance(concept, dict):
        return frozenset()
    codings = [c for c in concept.get("coding") or () if isinstance(c, dict)]
    by_code = frozenset().union(*(segments_of_code(c.get("system"), c.get("code")) or ()
                                  for c in codings))
    if by_code:
        return by_code
    words = [concept.get("text"), *(c.get("display") for c in codings)]
    return frozenset().union(*(segments_of_text(w) for w in words))


def segments_of_site(site: object) -> frozenset[str]:
    """The segments a series body site (a Coding) names: its code (value set, or Body Part
    Examined term), else its display."""
    if not isinstance(site, dict):
        return frozenset()
    code = site.get("code")
    by_code = segments_of_code(site.get("system"), code)
    if by_code:
        return by_code
    if isinstance(code, str) and code.strip().upper() in _BODY_PART_SEGMENTS:
        return _BODY_PART_SEGMENTS[code.strip().upper()]
    return segments_of_text(site.get("display"))


def segments_of_study(study: dict[str, Any], series: list[dict[str, Any]]) -> frozenset[str]:
    """The segments an ImagingStudy images, as its description and the body sites of
    ``series`` (those of the study's kind) say: a description "MRI spine" with a series
    TSPINE is thoracic; "MRI lumbar spine" with a series TSPINE is thoracic and lumbar."""
    sites = (segments_of_site(s.get("bodySite")) for s in series)
    return segments_of_text(study.get("description")).union(*sites)
