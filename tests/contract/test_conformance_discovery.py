"""CDS_HOOKS.md "Discovery": the document, the four services, and prefetch templates that
use only CDS Hooks 2.0 tokens and the recommended query forms."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest

from service.schemas import DiscoverySchema
from tests.helpers import SERVICE_OF_HOOK, make_test_app

ALLOWED_TOKENS = {
    "context.patientId", "context.userId", "context.encounterId",
    "userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId",
}
TOKEN = re.compile(r"\{\{(.*?)\}\}")
# FHIR R4 search parameters the templates may use, by kind (the 2.0 recommended forms:
# reference, token, date, plus _count and _sort).
REFERENCE = {"patient", "subject"}
TOKEN_PARAMS = {
    "Condition": {"code", "clinical-status", "verification-status", "category"},
    "Observation": {"code", "category", "status"},
    "MedicationRequest": {"code", "status", "intent", "category"},
    "MedicationStatement": {"code", "status", "category"},
    "ServiceRequest": {"code", "status", "intent", "category"},
    "Procedure": {"code", "status", "category"},
    "DiagnosticReport": {"code", "status", "category"},
    "ImagingStudy": {"status", "modality", "bodysite"},
}
DATE_PARAMS = {
    "Condition": {"onset-date", "recorded-date"},
    "Observation": {"date"},
    "MedicationRequest": {"authoredon"},
    "MedicationStatement": {"effective"},
    "ServiceRequest": {"authored", "occurrence"},
    "Procedure": {"date"},
    "DiagnosticReport": {"date", "issued"},
    "ImagingStudy": {"started"},
}
DATE_VALUE = re.compile(r"^(eq|lt|gt|ge|le)?\d{4}(-\d{2}(-\d{2})?)?$")


@pytest.fixture(scope="module")
def discovery() -> dict:
    response = make_test_app().test_client().get("/cds-services")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_discovery_document_matches_its_schema(discovery: dict) -> None:
    assert DiscoverySchema().validate(discovery) == {}


def test_the_four_services_of_the_design(discovery: dict) -> None:
    hooks = {s["id"]: s["hook"] for s in discovery["services"]}
    assert hooks == {service_id: hook for hook, service_id in SERVICE_OF_HOOK.items()}
    for service in discovery["services"]:
        assert service["title"] and service["description"] and service["usageRequirements"]


def test_every_service_declares_the_required_prefetch_keys(discovery: dict) -> None:
    for service in discovery["services"]:
        assert {"patient", "conditions"} <= set(service["prefetch"])


def _templates(discovery: dict) -> list[tuple[str, str]]:
    return [(key, template) for s in discovery["services"]
            for key, template in s["prefetch"].items()]


def test_templates_use_only_cds_hooks_2_tokens(discovery: dict) -> None:
    for key, template in _templates(discovery):
        tokens = TOKEN.findall(template)
        assert tokens, f"{key}: a template without a token cannot be patient-specific"
        assert set(tokens) <= ALLOWED_TOKENS, (key, tokens)
        assert "{" not in TOKEN.sub("", template), f"{key}: stray braces"


def test_templates_are_reads_or_searches_with_recommended_parameters(discovery: dict) -> None:
    for key, template in _templates(discovery):
        path, _, query = template.partition("?")
        if not query:  # a read: Type/{{token}}
            assert re.fullmatch(r"[A-Z][A-Za-z]+/\{\{[A-Za-z.]+\}\}", path), (key, template)
            continue
        rtype = path
        assert rtype in TOKEN_PARAMS, (key, rtype)
        params = parse_qsl(query, keep_blank_values=True)
        assert any(name in REFERENCE for name, _ in params), f"{key}: not patient-scoped"
        for name, value in params:
            base, _, modifier = name.partition(":")
            assert modifier in ("", "in"), (key, name)
            assert value, (key, name)
            if base in REFERENCE:
                assert TOKEN.fullmatch(value) or value.startswith("Patient/{{"), (key, name)
            elif base == "_count":
                assert value.isdigit(), (key, value)
            elif base == "_sort":
                assert re.fullmatch(r"-?[a-z-]+(,-?[a-z-]+)*", value), (key, value)
            elif base in DATE_PARAMS[rtype]:
                assert DATE_VALUE.match(value) or TOKEN.search(value), (key, name, value)
            else:
                assert base in TOKEN_PARAMS[rtype], (key, name)


def test_discovery_is_served_with_cors_for_browser_clients() -> None:
    client = make_test_app().test_client()
    response = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*",
                                                               "https://sandbox.cds-hooks.org")


def test_openapi_document_describes_every_service() -> None:
    response = make_test_app().test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    schemas = document["components"]["schemas"]
    for hook, service_id in SERVICE_OF_HOOK.items():
        operation = document["paths"][f"/cds-services/{service_id}"]["post"]
        assert {"200", "400", "412", "413", "415"} <= set(operation["responses"])
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        request = schemas[ref.rsplit("/", 1)[-1]]
        assert request["properties"]["hook"]["enum"] == [hook]
        assert {"hook", "hookInstance", "context"} <= set(request["required"])
        prefetch = schemas[request["properties"]["prefetch"]["$ref"].rsplit("/", 1)[-1]]
        assert {"patient", "conditions"} <= set(prefetch["properties"])
    assert "CdsResponse" in schemas and "OperationOutcome" in schemas


def test_openapi_document_describes_feedback() -> None:
    document = make_test_app().test_client().get("/openapi.json").get_json()
    operation = document["paths"]["/cds-services/{id}/feedback"]["post"]
    assert {"200", "400", "404", "503"} <= set(operation["responses"])
    for status in ("400", "404", "503"):
        body = operation["responses"][status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/OperationOutcome"}
    [service_id] = [p for p in operation["parameters"] if p["name"] == "id"]
    assert set(service_id["schema"]["enum"]) == set(SERVICE_OF_HOOK.values())
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert request["required"] == ["feedback"]
    entry = request["properties"]["feedback"]["items"]
    entry = document["components"]["schemas"][entry["$ref"].rsplit("/", 1)[-1]]
    assert {"card", "outcome", "outcomeTimestamp"} <= set(entry["required"])
