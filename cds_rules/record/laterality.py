"""Laterality: the side a body site names (SNOMED CT qualifier codings or words)."""

from __future__ import annotations

import re
from typing import Any

from cds_rules import valuesets as vs
from cds_rules.record.codes import Side, codings_of, concepts_list

LEFT, RIGHT, BILATERAL = "7771000", "24028007", "51440002"
_SIDE_CODES: dict[str, Side] = {LEFT: "left", RIGHT: "right", BILATERAL: "bilateral"}


def laterality_of(resource: dict[str, Any]) -> tuple[Side | None, str]:
    """Side and body-site text from ``bodySite`` (a CodeableConcept or a list of them)."""
    sides: set[str] = set()
    texts: list[str] = []
    for site in concepts_list(resource.get("bodySite")):
        label = ""
        for coding in codings_of(site):
            side = _SIDE_CODES.get(str(coding.get("code", ""))) \
                if vs.normalise_system(coding.get("system")) == vs.SNOMED else None
            if side:
                sides.add(side)
            elif not label and isinstance(coding.get("display"), str):
                label = coding["display"]
        if isinstance(site.get("text"), str) and site["text"]:
            label = site["text"]
        if label:
            texts.append(label)
            words = set(re.findall(r"[a-z]+", label.lower()))
            if words & {"bilateral", "both"}:
                sides.add("bilateral")
            sides.update(words & {"left", "right"})
        for coding in codings_of(site):  # a side-only coding still names the site
            if not label and isinstance(coding.get("display"), str) \
                    and str(coding.get("code", "")) not in _SIDE_CODES:
                texts.append(coding["display"])
    detail = ", ".join(texts)
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral", detail
    if sides:
        return sides.pop(), detail  # type: ignore[return-value]
    return None, detail


def combine_sides(a: Side | None, b: Side | None) -> Side | None:
    if a is None:
        return b
    if b is None or a == b:
        return a
    return "bilateral"
