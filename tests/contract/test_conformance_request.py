"""CDS_HOOKS.md "Service call": the request fields and each hook's context (hook library
1.0.1); every malformed request is a 400 OperationOutcome, never a 500."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import (
    SERVICE_OF_HOOK,
    base_context,
    hook_body,
    make_test_app,
    operation_outcome,
    required_prefetch,
)

HOOKS = list(SERVICE_OF_HOOK)


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return make_test_app().test_client()


def post(client: FlaskClient, hook: str, body: Any) -> Any:
    return client.post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)


def valid(hook: str, **fields: Any) -> dict[str, Any]:
    return hook_body(hook, prefetch=required_prefetch(), **fields)


@pytest.mark.parametrize("hook", HOOKS)
def test_a_valid_call_answers_cards(client: FlaskClient, hook: str) -> None:
    response = post(client, hook, valid(hook))
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["cards"], list)


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_required_top_level_fields(client: FlaskClient, hook: str, field: str) -> None:
    body = valid(hook)
    del body[field]
    issue = operation_outcome(post(client, hook, body), 400, "invalid")
    assert field in issue["diagnostics"]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_must_match_the_service(client: FlaskClient, hook: str) -> None:
    other = next(h for h in HOOKS if h != hook)
    body = valid(other)
    issue = operation_outcome(post(client, hook, body), 400, "invalid")
    assert "hook" in issue["diagnostics"]


@pytest.mark.parametrize("value", ["not-a-uuid", 12, None, ""])
def test_hook_instance_must_be_a_uuid(client: FlaskClient, value: Any) -> None:
    operation_outcome(post(client, "patient-view", valid("patient-view", hookInstance=value)),
                      400, "invalid")


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("field", ["userId", "patientId"])
def test_required_context_fields(client: FlaskClient, hook: str, field: str) -> None:
    body = valid(hook)
    del body["context"][field]
    issue = operation_outcome(post(client, hook, body), 400, "invalid")
    assert f"context.{field}" in issue["diagnostics"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("field,value", [
    ("patientId", 123), ("patientId", ["pat-1"]), ("patientId", "has space"),
    ("patientId", "x" * 65), ("userId", {"reference": "Practitioner/1"}),
    ("userId", "just-an-id"), ("encounterId", 5), ("encounterId", "a/b"),
])
def test_context_field_types(client: FlaskClient, hook: str, field: str, value: Any) -> None:
    body = valid(hook)
    body["context"][field] = value
    issue = operation_outcome(post(client, hook, body), 400, "invalid")
    assert f"context.{field}" in issue["diagnostics"]


def test_encounter_start_requires_encounter_id(client: FlaskClient) -> None:
    body = valid("encounter-start")
    del body["context"]["encounterId"]
    issue = operation_outcome(post(client, "encounter-start", body), 400)
    assert "context.encounterId" in issue["diagnostics"]


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_encounter_id_is_optional_elsewhere(client: FlaskClient, hook: str) -> None:
    body = valid(hook)
    body["context"].pop("encounterId", None)
    assert post(client, hook, body).status_code == 200


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize("draft_orders", [
    None, "Bundle", [], {"resourceType": "Patient", "id": "x"},
    {"resourceType": "Bundle", "entry": [{"resource": "ServiceRequest/1"}]},
    {"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:1"}]},
    {"resourceType": "Bundle", "entry": "many"},
])
def test_draft_orders_must_be_a_bundle_of_resources(
    client: FlaskClient, hook: str, draft_orders: Any
) -> None:
    body = valid(hook)
    body["context"]["draftOrders"] = draft_orders
    issue = operation_outcome(post(client, hook, body), 400)
    assert "context.draftOrders" in issue["diagnostics"]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_draft_orders_are_required_on_order_hooks(client: FlaskClient, hook: str) -> None:
    body = valid(hook)
    del body["context"]["draftOrders"]
    issue = operation_outcome(post(client, hook, body), 400)
    assert "context.draftOrders" in issue["diagnostics"]


@pytest.mark.parametrize("selections", [
    ["ServiceRequest/not-in-drafts"],
    ["ServiceRequest/sr-1", "MedicationRequest/sr-1"],
    [], "ServiceRequest/sr-1", [42], ["sr-1"],
])
def test_selections_must_name_draft_orders(client: FlaskClient, selections: Any) -> None:
    body = valid("order-select")
    body["context"]["selections"] = selections
    issue = operation_outcome(post(client, "order-select", body), 400)
    assert "context.selections" in issue["diagnostics"]


def test_selections_are_required_on_order_select(client: FlaskClient) -> None:
    body = valid("order-select")
    del body["context"]["selections"]
    operation_outcome(post(client, "order-select", body), 400)


def test_fhir_authorization_requires_fhir_server(client: FlaskClient) -> None:
    body = valid("patient-view", fhirAuthorization=_authorization())
    issue = operation_outcome(post(client, "patient-view", body), 400)
    assert "fhirServer" in issue["diagnostics"]


@pytest.mark.parametrize("field,value", [
    ("access_token", None), ("access_token", ""), ("token_type", "MAC"),
    ("expires_in", "300"), ("expires_in", -1), ("scope", 7), ("subject", None),
])
def test_fhir_authorization_fields(client: FlaskClient, field: str, value: Any) -> None:
    authorization = _authorization()
    authorization[field] = value
    body = valid("patient-view", fhirServer="https://ehr.example.org/fhir",
                 fhirAuthorization=authorization)
    issue = operation_outcome(post(client, "patient-view", body), 400)
    assert f"fhirAuthorization.{field}" in issue["diagnostics"]
    assert "secret-token" not in issue["diagnostics"]


@pytest.mark.parametrize("server", ["not a url", "ftp://ehr.example.org/fhir", 17])
def test_fhir_server_must_be_an_http_url(client: FlaskClient, server: Any) -> None:
    operation_outcome(post(client, "patient-view", valid("patient-view", fhirServer=server)),
                      400)


def test_a_complete_authorization_is_accepted(client: FlaskClient) -> None:
    body = valid("patient-view", fhirServer="https://ehr.example.org/fhir",
                 fhirAuthorization=_authorization())
    assert post(client, "patient-view", body).status_code == 200


def test_extensions_and_unknown_fields_are_ignored(client: FlaskClient) -> None:
    body = valid("order-select")
    body["extension"] = {"org.example.flavour": {"deep": [1, 2, {"x": None}]}}
    body["someFutureField"] = {"anything": True}
    body["context"]["extension"] = {"org.example.context": "value"}
    body["context"]["someFutureContextField"] = 1
    response = post(client, "order-select", body)
    assert response.status_code == 200, response.get_json()


def test_extension_must_be_an_object(client: FlaskClient) -> None:
    operation_outcome(post(client, "patient-view", valid("patient-view", extension=[1])), 400)


@pytest.mark.parametrize("hook", HOOKS)
def test_context_must_be_an_object(client: FlaskClient, hook: str) -> None:
    for context in (None, "ctx", [base_context(hook)], 1):
        body = valid(hook)
        body["context"] = copy.deepcopy(context)
        operation_outcome(post(client, hook, body), 400)


def _authorization() -> dict[str, Any]:
    return {"access_token": "secret-token", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/Patient.read patient/Condition.read", "subject": "backpain-cds"}
