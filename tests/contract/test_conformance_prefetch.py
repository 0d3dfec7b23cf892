"""CDS_HOOKS.md "Prefetch semantics": present / null / absent / OperationOutcome / paged /
single resource / other patient, and 412 when required data cannot be had.

The EHR's FHIR server is a real HTTP server on loopback (pytest-httpserver) and the app
reads it with its real FHIR client, so "fetched" and "not fetched" are observed on the
wire. Whether data reached the rules is observed in the cards: a cauda equina diagnosis
yields a critical ``cauda-equina`` card.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from service import metrics
from service.prefetch import render, token_value
from service.schemas import validate_response
from tests.helpers import (
    OTHER_PATIENT_ID,
    PATIENT_ID,
    condition,
    hook_body,
    make_test_app,
    operation_outcome,
    patient,
    required_prefetch,
    searchset,
)

NOW = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
SERVICE = "/cds-services/back-pain-patient-view"
TOKEN = "token-abc"
OPERATION_OUTCOME = {"resourceType": "OperationOutcome", "issue": [
    {"severity": "error", "code": "exception", "diagnostics": "EHR-side failure"}]}


def ces(patient_id: str = PATIENT_ID, resource_id: str = "ces-1") -> dict[str, Any]:
    return condition("192970008", "Cauda equina syndrome", patient_id=patient_id,
                     resource_id=resource_id, onset="2024-01-28")


def low_back_pain() -> dict[str, Any]:
    return condition("279039007", "Low back pain", onset="2024-01-20")


@pytest.fixture()
def fhir(httpserver: HTTPServer) -> HTTPServer:
    return httpserver


@pytest.fixture()
def app(fhir: HTTPServer) -> Flask:
    """Generous FHIR time limits: these tests are about what is fetched, not when it gives up
    (test_fhir_client_faults); a loaded machine's slow loopback server must not cause a 412."""
    return make_test_app(clock=lambda: NOW, allow_http_loopback=True,
                         fhir_server_allowlist=(fhir.url_for("/fhir"),),
                         fhir_timeout_seconds=10.0, fhir_deadline_seconds=20.0)


def call(app: Flask, prefetch: dict[str, Any] | None, fhir: HTTPServer | None = None,
         **fields: Any) -> Any:
    if fhir is not None:
        fields.setdefault("fhirServer", fhir.url_for("/fhir"))
        fields.setdefault("fhirAuthorization", {
            "access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "backpain-cds"})
    body = hook_body("patient-view", prefetch=prefetch, **fields)
    return app.test_client().post(SERVICE, json=body)


def topics(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert validate_response(body) == []
    return {(c["source"]["topic"]["code"], c["indicator"]) for c in body["cards"]}


def paths_requested(fhir: HTTPServer) -> list[str]:
    return [request.path for request, _ in fhir.log]


def test_present_prefetch_is_used_and_nothing_is_fetched(app: Flask, fhir: HTTPServer) -> None:
    response = call(app, required_prefetch(PATIENT_ID, ces()), fhir)
    assert ("cauda-equina", "critical") in topics(response)
    assert fhir.log == []


def test_null_means_no_data_and_is_not_fetched(app: Flask, fhir: HTTPServer) -> None:
    prefetch = required_prefetch(PATIENT_ID, low_back_pain())  # every optional key null
    assert topics(call(app, prefetch, fhir)) == {("conservative-care", "info")}
    assert fhir.log == []


def test_null_required_key_is_no_data_not_412(app: Flask) -> None:
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = None
    assert topics(call(app, prefetch)) == set()


@pytest.mark.parametrize("missing", [["patient"], ["conditions"], ["patient", "conditions"]])
def test_absent_required_key_without_fhir_server_is_412(app: Flask, missing: list[str]) -> None:
    prefetch = required_prefetch(PATIENT_ID, ces())
    for key in missing:
        del prefetch[key]
    issue = operation_outcome(call(app, prefetch), 412, "incomplete")
    for key in missing:
        assert key in issue["diagnostics"]


def test_no_prefetch_at_all_without_fhir_server_is_412(app: Flask) -> None:
    issue = operation_outcome(call(app, None), 412)
    assert "patient" in issue["diagnostics"] and "conditions" in issue["diagnostics"]


def test_absent_optional_keys_are_evaluated_without_them(app: Flask) -> None:
    prefetch = required_prefetch(PATIENT_ID, ces())
    for key in ("observations", "procedures", "imagingStudies"):
        del prefetch[key]
    assert ("cauda-equina", "critical") in topics(call(app, prefetch))


def test_absent_key_is_fetched_from_fhir_server_with_the_token(
    app: Flask, fhir: HTTPServer
) -> None:
    fhir.expect_request("/fhir/Condition", method="GET").respond_with_json(searchset(ces()))
    prefetch = required_prefetch(PATIENT_ID)
    del prefetch["conditions"]
    assert ("cauda-equina", "critical") in topics(call(app, prefetch, fhir))
    (request, _), = fhir.log
    assert request.path == "/fhir/Condition"
    assert request.args["patient"] == PATIENT_ID
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_everything_absent_is_fetched(app: Flask, fhir: HTTPServer) -> None:
    fhir.expect_request(f"/fhir/Patient/{PATIENT_ID}").respond_with_json(patient())
    fhir.expect_request("/fhir/Condition").respond_with_json(searchset(ces()))
    fhir.expect_request("/fhir/Observation").respond_with_json(searchset())
    for rtype in ("MedicationRequest", "MedicationStatement", "ServiceRequest", "Procedure",
                  "DiagnosticReport", "ImagingStudy"):
        fhir.expect_request(f"/fhir/{rtype}").respond_with_json(searchset())
    assert ("cauda-equina", "critical") in topics(call(app, None, fhir))
    assert len(fhir.log) == 9


def test_required_key_the_server_cannot_give_is_412(app: Flask, fhir: HTTPServer) -> None:
    fhir.expect_request("/fhir/Condition").respond_with_json(OPERATION_OUTCOME, status=500)
    prefetch = required_prefetch(PATIENT_ID)
    del prefetch["conditions"]
    issue = operation_outcome(call(app, prefetch, fhir), 412)
    assert "conditions" in issue["diagnostics"]
    assert TOKEN not in issue["diagnostics"]


def test_optional_key_the_server_cannot_give_is_a_data_gap(app: Flask, fhir: HTTPServer) -> None:
    fhir.expect_request("/fhir/Observation").respond_with_data("down", status=503)
    prefetch = required_prefetch(PATIENT_ID, ces())
    del prefetch["observations"]
    assert ("cauda-equina", "critical") in topics(call(app, prefetch, fhir))


@pytest.mark.parametrize("outcome", [
    OPERATION_OUTCOME,
    {"resourceType": "Bundle", "type": "searchset",
     "entry": [{"resource": OPERATION_OUTCOME, "search": {"mode": "outcome"}}]},
])
def test_operation_outcome_is_treated_as_absent_and_fetched(
    app: Flask, fhir: HTTPServer, outcome: dict[str, Any]
) -> None:
    fhir.expect_request("/fhir/Condition").respond_with_json(searchset(ces()))
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = outcome
    assert ("cauda-equina", "critical") in topics(call(app, prefetch, fhir))
    assert paths_requested(fhir) == ["/fhir/Condition"]


def test_operation_outcome_for_required_key_without_server_is_412(app: Flask) -> None:
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["patient"] = OPERATION_OUTCOME
    issue = operation_outcome(call(app, prefetch), 412)
    assert "patient" in issue["diagnostics"]


def test_paged_bundle_later_pages_are_fetched(app: Flask, fhir: HTTPServer) -> None:
    next_url = fhir.url_for("/fhir/Condition") + f"?patient={PATIENT_ID}&_page=2"
    fhir.expect_request("/fhir/Condition", query_string={"patient": PATIENT_ID, "_page": "2"}
                        ).respond_with_json(searchset(ces()))
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = searchset(low_back_pain(), next_url=next_url)
    # The red flag is only on page 2: its card proves the page reached the rules.
    assert ("cauda-equina", "critical") in topics(call(app, prefetch, fhir))
    assert paths_requested(fhir) == ["/fhir/Condition"]


def test_paged_bundle_without_fhir_server_uses_the_first_page(app: Flask) -> None:
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = searchset(
        ces(), next_url="https://ehr.example.org/fhir/Condition?_page=2")
    assert ("cauda-equina", "critical") in topics(call(app, prefetch))


def test_next_page_on_another_server_is_never_fetched(app: Flask, fhir: HTTPServer) -> None:
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = searchset(
        ces(), next_url="https://elsewhere.example.org/fhir/Condition?_page=2")
    assert ("cauda-equina", "critical") in topics(call(app, prefetch, fhir))
    assert fhir.log == []


def test_single_resource_and_searchset_are_both_accepted(app: Flask) -> None:
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = ces()  # a single resource, not a Bundle
    assert ("cauda-equina", "critical") in topics(call(app, prefetch))
    prefetch["patient"] = searchset(patient())  # a searchset instead of a read
    prefetch["conditions"] = searchset(ces())
    assert ("cauda-equina", "critical") in topics(call(app, prefetch))


def test_other_patients_resources_are_dropped_and_counted(app: Flask) -> None:
    dropped = metrics.RESOURCES_DROPPED.labels(reason="other-patient")
    before = dropped._value.get()
    prefetch = required_prefetch(PATIENT_ID, low_back_pain(), ces(OTHER_PATIENT_ID))
    assert topics(call(app, prefetch)) == {("conservative-care", "info")}
    assert dropped._value.get() == before + 1


@pytest.mark.parametrize("value", ["Patient/1", 5, [{"resourceType": "Patient"}], True,
                                   {"id": "no-resource-type"}])
def test_prefetch_value_must_be_a_resource_or_null(app: Flask, value: Any) -> None:
    prefetch = required_prefetch(PATIENT_ID)
    prefetch["conditions"] = value
    issue = operation_outcome(call(app, prefetch), 400)
    assert "prefetch.conditions" in issue["diagnostics"]


def test_undeclared_prefetch_keys_are_ignored(app: Flask) -> None:
    prefetch = required_prefetch(PATIENT_ID, ces())
    prefetch["somethingElse"] = "not even a resource"
    assert ("cauda-equina", "critical") in topics(call(app, prefetch))


def test_prefetch_must_be_an_object(app: Flask) -> None:
    operation_outcome(call(app, [1, 2]), 400)  # type: ignore[arg-type]


# --- template rendering


CONTEXT = {"patientId": "pat-1", "userId": "PractitionerRole/role-9", "encounterId": "e.1"}


def test_render_fills_context_tokens() -> None:
    assert render("Condition?patient={{context.patientId}}&encounter={{context.encounterId}}",
                  CONTEXT) == "Condition?patient=pat-1&encounter=e.1"
    assert render("{{context.userId}}", CONTEXT) == "PractitionerRole/role-9"


def test_render_url_encodes_values() -> None:
    assert render("Condition?patient={{context.patientId}}",
                  {"patientId": "a&b=c d"}) == "Condition?patient=a%26b%3Dc%20d"


def test_user_tokens_follow_the_user_type() -> None:
    assert token_value("userPractitionerRoleId", CONTEXT) == "role-9"
    assert token_value("userPractitionerId", CONTEXT) is None
    assert render("Practitioner/{{userPractitionerId}}", CONTEXT) is None


def test_unknown_tokens_do_not_render() -> None:
    assert render("Condition?patient={{context.draftOrders}}", CONTEXT) is None
    assert render("Condition?patient={{today()}}", CONTEXT) is None


@pytest.mark.parametrize("sent", [None, {"resourceType": "CodeSystem", "id": "cs",
                                         "status": "active", "content": "complete"}])
def test_a_patient_key_without_a_patient_is_a_data_gap_on_every_card(app: Flask,
                                                                    sent: Any) -> None:
    """patient null or not a Patient: evaluated with age unknown (adult), cards still
    raised, and every card names the gap and the unknown age."""
    prefetch = required_prefetch(PATIENT_ID, ces())
    prefetch["patient"] = sent
    response = call(app, prefetch)
    assert ("cauda-equina", "critical") in topics(response)
    for card in response.get_json()["cards"]:
        assert "patient (no Patient resource: age and sex unknown)" in card["detail"]
        assert "Data quality" in card["detail"]
