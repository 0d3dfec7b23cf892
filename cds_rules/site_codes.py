"""A site's own codes added to concepts: the file named by ``BACKPAIN_CDS_SITE_CODES``.

A hospital codes some findings and orders with local codes (its own cauda-equina screen
panel, a local MRI order code). The file says which concept each local code means, as FHIR:

- a **ConceptMap**: ``group[].source`` is the local system, ``group[].element[]`` a local
  code (with display), ``element.target[].code`` the concept name (``urinary_retention``,
  ``spine_mri``) or its ValueSet canonical URL; a target with ``equivalence``/
  ``relationship`` "unmatched", "disjoint" or "not-related-to" adds nothing;
- a **ValueSet** whose ``url`` is one of ours (``https://backpain-cds.org/fhir/ValueSet/
  <id>``, or its ``id``) and whose ``compose.include[].concept[]`` lists the local codes;
- a **Bundle** of either.

:func:`load_file` reads and validates it and raises :class:`SiteCodeError` naming the bad
entry (start-up stops, ``config-check`` reports it); :func:`cds_rules.valuesets.apply_site_codes`
adds the entries. Codes are matched exactly (no hierarchy); each is marked as a site code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cds_rules import valueset_format as fmt

_NO_MATCH = {"unmatched", "disjoint", "not-related-to"}


class SiteCodeError(ValueError):
    """The site code file is unusable; the message names the file and the bad entry."""


SiteEntry = tuple[str, dict[str, Any]]  # (concept, entry dict as in valueset_format)


def load_file(path: str | Path, known: set[str]) -> list[SiteEntry]:
    """The (concept, entry) pairs of the site code file at ``path``; ``known``: the concept
    and order-kind names codes may be added to."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SiteCodeError(f"site code file {path}: cannot read it as JSON ({exc})") from exc
    try:
        return parse(document, known)
    except SiteCodeError as exc:
        raise SiteCodeError(f"site code file {path}: {exc}") from None


def parse(document: object, known: set[str]) -> list[SiteEntry]:
    """Validate a ConceptMap, ValueSet or Bundle of them; see the module docstring."""
    if not isinstance(document, dict):
        raise SiteCodeError("expected a FHIR ConceptMap, ValueSet or Bundle (a JSON object)")
    kind = document.get("resourceType")
    if kind == "Bundle":
        out: list[SiteEntry] = []
        for i, item in enumerate(document.get("entry") or []):
            resource = item.get("resource") if isinstance(item, dict) else None
            try:
                out += parse(resource, known)
            except SiteCodeError as exc:
                raise SiteCodeError(f"Bundle.entry[{i}]: {exc}") from None
        return out
    if kind == "ConceptMap":
        return _concept_map(document, known)
    if kind == "ValueSet":
        return _value_set(document, known)
    raise SiteCodeError(f"resourceType {kind!r}: expected ConceptMap, ValueSet or Bundle")


def _concept_of(target: object, known: set[str], where: str) -> str:
    """A concept name from a name, a ValueSet id or our canonical URL."""
    text = str(target or "")
    name = text.rsplit("/", 1)[-1].replace("-", "_") if text.startswith(fmt.BASE) else text
    name = name.replace("-", "_")
    if name not in known:
        raise SiteCodeError(f"{where}: unknown concept {text!r} "
                            "(a concept name such as 'urinary_retention', or its ValueSet URL)")
    return name


def _entry(system: object, code: object, display: object, where: str, source: str
           ) -> dict[str, Any]:
    if not isinstance(system, str) or not system.strip():
        raise SiteCodeError(f"{where}: no code system")
    if not isinstance(code, str) or not code.strip():
        raise SiteCodeError(f"{where}: no code")
    label = display if isinstance(display, str) and display.strip() else code
    return {"system": system.strip(), "code": code.strip(), "display": label,
            "verified": f"site code ({source})", "site": True}


def _concept_map(cm: dict[str, Any], known: set[str]) -> list[SiteEntry]:
    out: list[SiteEntry] = []
    name = cm.get("url") or cm.get("id") or "ConceptMap"
    for g, group in enumerate(cm.get("group") or []):
        for e, element in enumerate(group.get("element") or []):
            where = f"ConceptMap {name} group[{g}].element[{e}]"
            targets = [t for t in element.get("target") or []
                       if (t.get("equivalence") or t.get("relationship")) not in _NO_MATCH]
            if not targets:
                raise SiteCodeError(f"{where}: no target concept")
            entry = _entry(group.get("source"), element.get("code"), element.get("display"),
                           where, f"ConceptMap {name}")
            out += [(_concept_of(t.get("code"), known, f"{where}.target"), entry)
                    for t in targets]
    if not out:
        raise SiteCodeError(f"ConceptMap {name}: maps no code")
    return out


def _value_set(vs: dict[str, Any], known: set[str]) -> list[SiteEntry]:
    name = vs.get("url") or vs.get("id")
    concept = _concept_of(name, known, "ValueSet url/id")
    out: list[SiteEntry] = []
    for i, include in enumerate((vs.get("compose") or {}).get("include") or []):
        for c, item in enumerate(include.get("concept") or []):
            where = f"ValueSet {name} compose.include[{i}].concept[{c}]"
            out.append((concept, _entry(include.get("system"), item.get("code"),
                                        item.get("display"), where, f"ValueSet {name}")))
    if not out:
        raise SiteCodeError(f"ValueSet {name}: lists no code in compose.include[].concept")
    return out
