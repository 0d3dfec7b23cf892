"""The FHIR R4 ``ValueSet`` layout of ``cds_rules/valuesets/*.json`` (one file per concept).

A file says what is meant in ``compose`` (SNOMED CT ``is-a`` filters, ICD-10 / ICD-10-CM
categories, code lists) and pins in ``expansion.contains`` what the engine compiles. Each
``contains`` entry carries its display and, as extensions, where it was checked and how it
matches::

    {"system": ..., "code": "M54.1", "display": ...,
     "extension": [{"url": EXT_CHECKED, "valueString": "<where checked>"},
                   {"url": EXT_MATCH, "valueCode": "descendants"},   # ICD: code and below
                   {"url": EXT_MATCH, "valueCode": "exclude"},       # ICD: NOT in the concept
                   {"url": EXT_LATERALITY, "valueCode": "left|right|bilateral"},
                   {"url": EXT_HISTORY, "valueBoolean": true},       # e.g. Z85: history only
                   {"url": EXT_DESCENDANT_OF, "valueCode": "<SNOMED parent in compose>"}]}

The resource itself carries the concept name and kind (``EXT_CONCEPT``, ``EXT_KIND``) and,
for medicines, ingredient names (``EXT_INGREDIENT_NAME``). :func:`entries` turns a file into
plain entry dicts for :mod:`cds_rules.valuesets`; nothing here needs a terminology server.
"""

from __future__ import annotations

from typing import Any

BASE = "https://backpain-cds.org/fhir"
EXT = f"{BASE}/StructureDefinition"
EXT_CONCEPT = f"{EXT}/valueset-concept"
EXT_KIND = f"{EXT}/valueset-kind"
EXT_INGREDIENT_NAME = f"{EXT}/valueset-ingredient-name"
EXT_CHECKED = f"{EXT}/code-checked"
EXT_MATCH = f"{EXT}/code-match"
EXT_LATERALITY = f"{EXT}/code-laterality"
EXT_HISTORY = f"{EXT}/code-history"
EXT_DESCENDANT_OF = f"{EXT}/code-descendant-of"
EXT_RXNORM_TTY = f"{EXT}/code-rxnorm-tty"

_VALUE_KEYS = ("valueString", "valueCode", "valueBoolean", "valueUri")


def ext_value(holder: dict[str, Any], url: str) -> Any:
    """The value of the first extension with ``url`` (None when absent)."""
    for ext in holder.get("extension", ()):
        if ext.get("url") == url:
            return next((ext[k] for k in _VALUE_KEYS if k in ext), None)
    return None


def ext_values(holder: dict[str, Any], url: str) -> list[Any]:
    return [next((e[k] for k in _VALUE_KEYS if k in e), None)
            for e in holder.get("extension", ()) if e.get("url") == url]


def concept_of(resource: dict[str, Any]) -> str:
    return str(ext_value(resource, EXT_CONCEPT) or "")


def kind_of(resource: dict[str, Any]) -> str:
    return str(ext_value(resource, EXT_KIND) or "finding")


def entry_of(item: dict[str, Any]) -> dict[str, Any]:
    """One ``expansion.contains`` item as a plain entry dict (old-style keys)."""
    entry: dict[str, Any] = {"system": item.get("system", ""), "code": item.get("code", ""),
                             "display": item.get("display", ""),
                             "verified": ext_value(item, EXT_CHECKED) or ""}
    match = ext_value(item, EXT_MATCH)
    if match in ("descendants", "exclude"):
        entry["match"] = match
    if (lat := ext_value(item, EXT_LATERALITY)) is not None:
        entry["laterality"] = lat
    if ext_value(item, EXT_HISTORY) is True:
        entry["status"] = "history"
    if (parent := ext_value(item, EXT_DESCENDANT_OF)) is not None:
        entry["descendant_of"] = parent
    if (tty := ext_value(item, EXT_RXNORM_TTY)) is not None:
        entry["tty"] = tty
        if tty != "IN":  # a clinical drug's name is no ingredient name to search text for
            entry["ingredient"] = False
    return entry


def entries(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pinned expansion entry of a ValueSet resource."""
    return [entry_of(item) for item in resource.get("expansion", {}).get("contains", ())]


def contains_item(entry: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`entry_of`: an entry dict as an ``expansion.contains`` item."""
    ext: list[dict[str, Any]] = [{"url": EXT_CHECKED, "valueString": entry["verified"]}]
    if entry.get("match"):
        ext.append({"url": EXT_MATCH, "valueCode": entry["match"]})
    if entry.get("laterality"):
        ext.append({"url": EXT_LATERALITY, "valueCode": entry["laterality"]})
    if entry.get("status") == "history":
        ext.append({"url": EXT_HISTORY, "valueBoolean": True})
    if entry.get("descendant_of"):
        ext.append({"url": EXT_DESCENDANT_OF, "valueCode": entry["descendant_of"]})
    if entry.get("tty"):
        ext.append({"url": EXT_RXNORM_TTY, "valueCode": entry["tty"]})
    return {"extension": ext, "system": entry["system"], "code": entry["code"],
            "display": entry["display"]}


def resource_id(concept: str) -> str:
    """FHIR ids allow no underscore: ``urinary_retention`` -> ``urinary-retention``."""
    return concept.replace("_", "-")


def resource_name(concept: str) -> str:
    return "".join(part.capitalize() for part in concept.split("_"))


def canonical_url(concept: str) -> str:
    return f"{BASE}/ValueSet/{resource_id(concept)}"
