"""The clinical knowledge as FHIR R4 resources: one ``eca-rule`` PlanDefinition per rule,
one ActivityDefinition per orderable thing a card may suggest, one ValueSet per concept.

Built from the running rules (:mod:`service.rulebook` reads what each rule reads),
so the published knowledge is the code that runs, and serialised one way
(:func:`to_bytes`) so that ``GET /fhir/...`` and ``backpain-cds export-fhir`` give the
same bytes. Every resource is checked with ``fhir.resources.R4B`` in the tests; nothing
here carries a timestamp, so a build is reproducible.
"""

from __future__ import annotations

import copy
import json
from functools import cache, lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from cds_rules import (
    BUNDLED,
    EXT_CHECKED,
    ORDERS,
    RULE_SYSTEM,
    RULES,
    SOURCES,
    TOPIC_SYSTEM,
    VALUE_SETS,
    VALUESET_DIR,
    OrderSpec,
    Rule,
    RuleSettings,
)
from service import rulebook

BASE = "https://backpain-cds.org/fhir"
PUBLISHER = "backpain-cds"
PACKAGE_NAME = "org.backpain-cds.knowledge"
USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
SNOMED = "http://snomed.info/sct"
TYPES = ("PlanDefinition", "ActivityDefinition", "ValueSet")
# The FHIR resource types the record builder reads each kind of value set from.
_READ_FROM: dict[str, tuple[str, ...]] = {
    "finding": ("Condition", "Observation"),
    "quantity": ("Observation",),
    "medication": ("MedicationRequest", "MedicationStatement"),
    "order": ("ServiceRequest", "Procedure", "ImagingStudy", "DiagnosticReport"),
    "site": ("ImagingStudy",),  # series.bodySite
}


def release() -> str:
    try:
        return version("backpain-cds")
    except PackageNotFoundError:
        return "0"


def canonical(resource_type: str, resource_id: str) -> str:
    return f"{BASE}/{resource_type}/{resource_id}"


# --- PlanDefinition ------------------------------------------------------------------------


def plan_definition(rule: Rule, site: RuleSettings) -> dict[str, Any]:
    """The rule as an ECA rule: triggers (hooks), conditions (plain words and this site's
    thresholds), inputs (value sets) and the orders it may suggest (ActivityDefinitions)."""
    found = rulebook.reads(rule.id)
    words = rulebook.plain_words(rule)
    return {
        "resourceType": "PlanDefinition",
        "id": rule.id,
        "url": canonical("PlanDefinition", rule.id),
        "identifier": [{"system": RULE_SYSTEM, "value": rule.id}],
        "version": rule.version,
        "name": "Rule" + "".join(ch for ch in rule.id if ch.isalnum()),
        "title": f"{rule.id} {rule.title}",
        "type": {"coding": [{"system": PLAN_TYPE, "code": "eca-rule",
                             "display": "ECA Rule"}]},
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": words,
        "useContext": _use_context(rule),
        "topic": [_topic(rule)],
        "usage": "\n".join(f"- {line}" for line in rule.advice),
        "relatedArtifact": [_citation(key) for key in rule.evidence],
        "action": [{
            "title": rule.title,
            "description": f"Card on topic {rule.topic.value}, indicator "
                           f"{' or '.join(rule.indicators)}; phase {rule.phase}.",
            "code": [_topic(rule)],
            "trigger": [{"type": "named-event", "name": hook} for hook in rule.hooks],
            "condition": _conditions(rule, words, site),
            "input": [req for concept in (*found.concepts, *found.order_kinds)
                      for req in _data_requirements(concept)],
            **({"action": [_order_action(key) for key in found.orders]} if found.orders else {}),
        }],
    }


def _topic(rule: Rule) -> dict[str, Any]:
    return {"coding": [{"system": TOPIC_SYSTEM, "code": rule.topic.value}]}


def _use_context(rule: Rule) -> list[dict[str, Any]]:
    return [
        {"code": {"system": USAGE_CONTEXT, "code": "focus"},
         "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "279039007",
                                              "display": "Low back pain"}],
                                  "text": "Back pain with or without leg symptoms"}},
        {"code": {"system": USAGE_CONTEXT, "code": "age"},
         "valueRange": {"low": {"value": 18, "unit": "a", "system": "http://unitsofmeasure.org",
                                "code": "a"}}},
        {"code": {"system": USAGE_CONTEXT, "code": "workflow"},
         "valueCodeableConcept": {"text": "CDS Hooks: " + ", ".join(rule.hooks)}},
    ]


def _citation(key: str) -> dict[str, Any]:
    source = SOURCES[key]
    return {"type": "citation", "label": source.short,
            "display": f"{source.title} ({source.version})",
            "citation": source.citation(), "url": source.url}


def _conditions(rule: Rule, words: str, site: RuleSettings) -> list[dict[str, Any]]:
    described = [{"kind": "applicability", "expression": {
        "description": f"{rule.title}: the rule's own description (cds_rules, "
                       f"{rule.check.__module__})",
        "language": "text/plain", "expression": words}}]
    for t in rulebook.thresholds(rule, site):
        whose = "our choice, configurable" if t.ours else "guideline"
        described.append({"kind": "applicability", "expression": {
            "description": f"{t.meaning} ({whose}); default {t.default}",
            "name": t.name.replace("_", "-"),
            "language": "text/plain", "expression": f"{t.variable} = {t.value}"}})
    return described


def _data_requirements(concept: str) -> list[dict[str, Any]]:
    kind = VALUE_SETS[concept].kind
    url = str(_valueset_files()[concept]["url"])
    return [{"type": rtype, "codeFilter": [{"path": "code", "valueSet": url}]}
            for rtype in _READ_FROM.get(kind, ("Condition",))]


def _order_action(key: str) -> dict[str, Any]:
    parts = BUNDLED.get(key, (key,))
    if len(parts) == 1:
        return {"title": ORDERS[key].display,
                "definitionCanonical": canonical("ActivityDefinition", key)}
    return {"title": "Together: " + ", ".join(ORDERS[k].display for k in parts),
            "groupingBehavior": "logical-group", "selectionBehavior": "all",
            "action": [_order_action(k) for k in parts]}


# --- ActivityDefinition --------------------------------------------------------------------


def activity_definition(spec: OrderSpec) -> dict[str, Any]:
    """What a suggestion orders: a proposed ServiceRequest with its codes (and where each
    code was checked; local codes say so)."""
    checked = "\n".join(f"- `{c.code}` ({c.system}): {c.verified}" for c in spec.codes)
    resource: dict[str, Any] = {
        "resourceType": "ActivityDefinition",
        "id": spec.key,
        "url": canonical("ActivityDefinition", spec.key),
        "version": release(),
        "name": "".join(part.capitalize() for part in spec.key.split("-")),
        "title": spec.display,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": f"{spec.display}, suggested on a card as a draft ServiceRequest "
                       f"(priority set by the card).\n\nCodes, and where each was checked:\n"
                       f"{checked}",
        "kind": "ServiceRequest",
        "intent": "proposal",
        "code": {"coding": [c.coding() for c in spec.codes], "text": spec.display},
    }
    return resource


# --- ValueSet ------------------------------------------------------------------------------


def value_set(concept: str) -> dict[str, Any]:
    """The concept's ValueSet as the clinical core keeps it
    (``cds_rules/valuesets/<concept>.json``: compose, pinned expansion, where each code
    was checked), plus the codes this site added (``BACKPAIN_CDS_SITE_CODES``): in compose,
    in the expansion marked where checked as a site code, and a ``+site`` version, since
    the set then differs from the published one."""
    resource = _valueset_files()[concept]
    added = [e for e in VALUE_SETS[concept].entries if e.get("site")]
    if not added:
        return resource
    resource = copy.deepcopy(resource)
    resource["version"] = f"{resource.get('version', '')}+site"
    by_system: dict[str, list[dict[str, str]]] = {}
    for entry in added:
        by_system.setdefault(entry["system"], []).append(
            {"code": entry["code"], **({"display": entry["display"]} if entry.get("display")
                                       else {})})
    compose = resource.setdefault("compose", {"include": []})
    compose["include"] += [{"system": system, "concept": concepts}
                           for system, concepts in by_system.items()]
    expansion = resource["expansion"]
    expansion["contains"] = expansion.get("contains", []) + [_site_contains(e) for e in added]
    expansion["total"] = len(expansion["contains"])
    return resource


def _site_contains(entry: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"extension": [{"url": EXT_CHECKED,
                                           "valueString": str(entry.get("verified", ""))}],
                            "system": entry["system"], "code": entry["code"]}
    if entry.get("display"):
        item["display"] = entry["display"]
    return item


def site_code_key() -> tuple[tuple[str, str, str], ...]:
    """The site codes now applied to the value sets (a cache key: they are set at start-up
    by create_app, and the knowledge must show them)."""
    return tuple((concept, str(e["system"]), str(e["code"]))
                 for concept, vs in VALUE_SETS.items() for e in vs.entries if e.get("site"))


@cache
def _valueset_files() -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for concept in VALUE_SETS:
        path = VALUESET_DIR / f"{concept}.json"
        files[concept] = json.loads(path.read_text(encoding="utf-8"))
    return files


def valueset_id(concept: str) -> str:
    """The FHIR id of a concept's ValueSet (``cauda_equina_syndrome`` ->
    ``cauda-equina-syndrome``)."""
    return str(_valueset_files()[concept]["id"])


# --- all of it -----------------------------------------------------------------------------


def resources(resource_type: str, site: RuleSettings) -> list[dict[str, Any]]:
    """Every resource of one type, in a stable order."""
    if resource_type == "PlanDefinition":
        return [prune(plan_definition(rule, site)) for rule in RULES]
    if resource_type == "ActivityDefinition":
        return [prune(activity_definition(spec)) for spec in ORDERS.values()]
    if resource_type == "ValueSet":
        return [value_set(concept) for concept in sorted(VALUE_SETS)]
    raise KeyError(resource_type)


def capability_statement(base: str, params: tuple[str, ...]) -> dict[str, Any]:
    """A read-only knowledge server: read and search of the three types, JSON only. Its
    date is that of the newest value set, so that the same knowledge gives the same bytes."""
    dates = [str(vs.get("date")) for vs in _valueset_files().values() if vs.get("date")]
    types = {"_id": "token", "url": "uri", "version": "token"}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": max(dates, default="2026-12-01"),
        "publisher": PUBLISHER,
        "kind": "instance",
        "software": {"name": "backpain-cds", "version": release()},
        "implementation": {"description": "backpain-cds clinical knowledge (read-only)",
                           "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{"mode": "server", "resource": [
            {"type": rtype, "interaction": [{"code": "read"}, {"code": "search-type"}],
             "searchParam": [{"name": name, "type": types[name]} for name in params]}
            for rtype in TYPES]}],
    }


def prune(value: Any) -> Any:
    """FHIR JSON has no empty arrays, objects or strings: leave such elements out (a rule
    that reads free text has no value-set inputs, for example)."""
    if isinstance(value, dict):
        kept = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ([], {}, "", None)}
    if isinstance(value, list):
        kept_items = [prune(v) for v in value]
        return [v for v in kept_items if v not in ([], {}, "", None)]
    return value


def searchset(resource_type: str, items: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """A searchset Bundle of ``items`` (no timestamp: the same knowledge, the same bytes)."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(items),
        "link": [{"relation": "self", "url": f"{base_url}{resource_type}"}],
    }
    if items:  # no matches: no "entry" at all (FHIR JSON has no empty arrays)
        bundle["entry"] = [{"fullUrl": f"{base_url}{resource_type}/{item['id']}",
                            "resource": item, "search": {"mode": "match"}} for item in items]
    return bundle


def to_bytes(resource: dict[str, Any]) -> bytes:
    """The one serialisation: UTF-8 JSON, two-space indent, keys in build order, newline."""
    return (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@lru_cache(maxsize=16)
def _cached(resource_type: str, site: RuleSettings,
            _codes: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, bytes], ...]:
    return tuple((item["id"], to_bytes(item)) for item in resources(resource_type, site))


def serialised(resource_type: str, site: RuleSettings) -> dict[str, bytes]:
    """id -> bytes of every resource of a type (built once per site thresholds and site
    codes)."""
    return dict(_cached(resource_type, site, site_code_key()))
