"""The knowledge as FHIR R4: valid with fhir.resources.R4B, complete, linked, and the
``export-fhir`` package byte-identical to what ``/fhir`` serves."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cds_rules.catalogue import RULES
from cds_rules.evidence import SOURCES
from cds_rules.orders import ORDERS
from cds_rules.valuesets import VALUE_SETS, VALUESET_DIR
from service.cli import main
from service.knowledge import TYPES
from tests.conftest import ROOT
from tests.pages_support import local_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = local_app(tmp_path_factory.mktemp("fhir"))
    yield app.test_client()
    app.extensions["backpain"]["store"].dispose()


def search(client: Any, resource_type: str) -> dict[str, Any]:
    response = client.get(f"/fhir/{resource_type}")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    return response.get_json()


@pytest.mark.parametrize("resource_type", TYPES)
def test_every_resource_and_bundle_validates_with_r4b(client: Any, resource_type: str) -> None:
    bundle = search(client, resource_type)
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"]) > 0
    model = get_fhir_model_class(resource_type)
    for entry in bundle["entry"]:
        model.model_validate(entry["resource"])
        single = client.get(f"/fhir/{resource_type}/{entry['resource']['id']}")
        assert single.get_json() == entry["resource"]


def test_one_eca_rule_plan_definition_per_rule_with_version_and_evidence(client: Any) -> None:
    plans = {e["resource"]["id"]: e["resource"] for e in search(client, "PlanDefinition")["entry"]}
    assert set(plans) == {rule.id for rule in RULES}
    for rule in RULES:
        plan = plans[rule.id]
        assert plan["version"] == rule.version
        assert plan["type"]["coding"][0]["code"] == "eca-rule"
        assert [a["url"] for a in plan["relatedArtifact"]] == [SOURCES[k].url
                                                               for k in rule.evidence]
        action = plan["action"][0]
        assert {t["name"] for t in action["trigger"]} == set(rule.hooks)
        assert action["condition"][0]["expression"]["expression"]  # described in words


def test_plan_definitions_link_to_served_activity_definitions_and_value_sets(
        client: Any) -> None:
    served = {t: {e["resource"]["url"] for e in search(client, t)["entry"]} for t in TYPES}
    ces = client.get("/fhir/PlanDefinition/CES-01").get_json()
    canonicals = [a["definitionCanonical"] for a in ces["action"][0]["action"]]
    assert "https://backpain-cds.org/fhir/ActivityDefinition/emergency-department" in canonicals
    assert set(canonicals) <= served["ActivityDefinition"]
    value_sets = {f["valueSet"] for req in ces["action"][0]["input"] for f in req["codeFilter"]}
    assert "https://backpain-cds.org/fhir/ValueSet/cauda-equina-syndrome" in value_sets
    assert value_sets <= served["ValueSet"]
    emg = client.get("/fhir/PlanDefinition/EMG-01").get_json()
    together = emg["action"][0]["action"][0]  # needle EMG and NCS are one suggestion
    assert [a["definitionCanonical"].rsplit("/", 1)[1] for a in together["action"]] == \
        ["emg-needle", "ncs"]


def test_thresholds_appear_as_conditions_with_this_sites_value(tmp_path: Path) -> None:
    app = local_app(tmp_path, cauda_equina_window_days=21)
    ces = app.test_client().get("/fhir/PlanDefinition/CES-01").get_json()
    expressions = [c["expression"]["expression"] for c in ces["action"][0]["condition"]]
    assert "BACKPAIN_CDS_CAUDA_EQUINA_WINDOW_DAYS = 21" in expressions
    app.extensions["backpain"]["store"].dispose()


def test_activity_definitions_carry_the_order_codes(client: Any) -> None:
    entries = search(client, "ActivityDefinition")["entry"]
    assert {e["resource"]["id"] for e in entries} == set(ORDERS)
    mri = client.get("/fhir/ActivityDefinition/mri-lumbar-without-contrast").get_json()
    assert {c["code"] for c in mri["code"]["coding"]} >= {"394451000119106", "72148"}
    assert mri["kind"] == "ServiceRequest"


def test_every_value_set_is_served_as_the_core_keeps_it(client: Any) -> None:
    """One representation: the ValueSet files the engine compiles, with their version and
    pinned expansion, not a second copy built for the web."""
    entries = search(client, "ValueSet")["entry"]
    assert len(entries) == len(VALUE_SETS)
    for entry in entries:
        served = entry["resource"]
        kept = json.loads((VALUESET_DIR / f"{served['url'].rsplit('/', 1)[1].replace('-', '_')}"
                           ".json").read_text(encoding="utf-8"))
        assert served == kept
        assert served["version"] and served["expansion"]["contains"]


@pytest.mark.parametrize("url", ["/fhir/Patient", "/fhir/PlanDefinition/NOPE",
                                 "/fhir/ValueSet/..%2Fetc"])
def test_unknown_is_a_404_operation_outcome(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_export_is_byte_identical_to_what_the_endpoints_serve(
        client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("BACKPAIN_CDS_")]:
        monkeypatch.delenv(name)
    assert main(["export-fhir", str(tmp_path)]) == 0
    package = tmp_path / "package"
    manifest = json.loads((package / "package.json").read_text())
    assert manifest["fhirVersions"] == ["4.0.1"]
    index = json.loads((package / ".index.json").read_text())["files"]
    served = 0
    for resource_type in TYPES:
        for entry in search(client, resource_type)["entry"]:
            rid = entry["resource"]["id"]
            body = client.get(f"/fhir/{resource_type}/{rid}").data
            assert (package / f"{resource_type}-{rid}.json").read_bytes() == body
            served += 1
    assert len(index) == served == len(list(package.glob("*-*.json")))


def _empty_paths(value: Any, path: str = "") -> list[str]:
    if value in ([], {}, "", None):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _empty_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _empty_paths(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("resource_type", TYPES)
def test_no_empty_element_anywhere(client: Any, resource_type: str) -> None:
    """FHIR JSON: an element is present with a value or absent (e.g. a rule that reads
    free text has no value-set input list at all, not an empty one)."""
    for entry in search(client, resource_type)["entry"]:
        assert _empty_paths(entry["resource"]) == [], entry["resource"]["id"]


SITE_CODES = ROOT / "fhir_samples" / "site_codes" / "example-hospital.json"


@pytest.fixture
def site_app(tmp_path: Path) -> Any:
    """An app with the example hospital's site codes (reset afterwards: they are global)."""
    from cds_rules import valuesets

    app = local_app(tmp_path, site_codes=str(SITE_CODES))
    yield app
    app.extensions["backpain"]["store"].dispose()
    valuesets.apply_site_codes([])


def test_site_codes_are_in_the_value_set_and_on_the_rule_page(site_app: Any) -> None:
    client = site_app.test_client()
    served = client.get("/fhir/ValueSet/saddle-anaesthesia").get_json()
    get_fhir_model_class("ValueSet").model_validate(served)
    assert served["version"].endswith("+site")
    site = [c for c in served["expansion"]["contains"] if c["code"] == "CES-SCREEN-POS"]
    assert site and site[0]["system"] == "http://hospital.example.org/fhir/CodeSystem/local-problems"
    assert served["expansion"]["total"] == len(served["expansion"]["contains"])
    assert any(i["system"].startswith("http://hospital.example.org") for i in
               served["compose"]["include"])
    bundle = client.get("/fhir/ValueSet").get_json()
    assert any(c["code"] == "LBP" for e in bundle["entry"] if e["resource"]["id"] == "low-back-pain"
               for c in e["resource"]["expansion"]["contains"])
    html = client.get("/rules/CES-01").get_data(as_text=True)
    row = re.search(r'<tr class="site">.*?CES-SCREEN-POS.*?</tr>', html, re.S)
    assert row and "<em>site</em>" in row.group(0)


def test_export_with_site_codes_matches_the_endpoints(
        site_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cds_rules import valuesets

    for name in [n for n in os.environ if n.startswith("BACKPAIN_CDS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BACKPAIN_CDS_SITE_CODES", str(SITE_CODES))
    client = site_app.test_client()
    valuesets.apply_site_codes([])  # the command must apply the site's codes itself
    assert main(["export-fhir", str(tmp_path / "out")]) == 0
    exported = tmp_path / "out" / "package" / "ValueSet-saddle-anaesthesia.json"
    assert exported.read_bytes() == client.get("/fhir/ValueSet/saddle-anaesthesia").data
    assert b"CES-SCREEN-POS" in exported.read_bytes()


def test_capability_statement_says_what_is_served(client: Any) -> None:
    statement = client.get("/fhir/metadata").get_json()
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    assert {r["type"] for r in statement["rest"][0]["resource"]} == set(TYPES)


def test_a_canonical_reference_resolves_by_search(client: Any) -> None:
    plan = client.get("/fhir/PlanDefinition/CES-01").get_json()
    canonical = plan["action"][0]["action"][0]["definitionCanonical"]
    found = client.get(f"/fhir/ActivityDefinition?url={canonical}").get_json()
    get_fhir_model_class("Bundle").model_validate(found)
    assert [e["resource"]["url"] for e in found["entry"]] == [canonical]
    pinned = client.get(f"/fhir/PlanDefinition?url={plan['url']}|{plan['version']}").get_json()
    assert pinned["total"] == 1
    none = client.get(f"/fhir/PlanDefinition?url={plan['url']}|0.0.1").get_json()
    assert none["total"] == 0 and "entry" not in none
    assert client.get("/fhir/ValueSet?_id=cauda-equina-syndrome").get_json()["total"] == 1
