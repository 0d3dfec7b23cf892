"""Where an imaging study looked: whether words or an ImagingStudy series' body site name
the spine below the neck.

A study of the neck alone does not image the lumbar canal: it never stands a low back red
flag's "no MRI since" down (value set spine_body_site leaves the cervical spine out for the
same reason).
"""

from __future__ import annotations

import re

from cds_rules import valuesets as vs

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
