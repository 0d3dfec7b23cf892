"""CDS_HOOKS.md "Status codes we use" and CORS: every non-2xx answer is a FHIR
OperationOutcome in application/json, without internals."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from service import hooks, metrics
from tests.helpers import hook_body, make_test_app, operation_outcome, required_prefetch

SERVICE = "/cds-services/back-pain-patient-view"


@pytest.fixture()
def client() -> FlaskClient:
    return make_test_app().test_client()


def test_unknown_service_is_404(client: FlaskClient) -> None:
    body = hook_body("patient-view", prefetch=required_prefetch())
    operation_outcome(client.post("/cds-services/no-such-service", json=body), 404, "not-found")


def test_unknown_path_is_404(client: FlaskClient) -> None:
    operation_outcome(client.get("/nothing/here"), 404, "not-found")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_on_a_service_is_405_with_allow(client: FlaskClient, method: str) -> None:
    response = client.open(SERVICE, method=method)
    operation_outcome(response, 405, "not-supported")
    assert "POST" in response.headers["Allow"]


def test_wrong_method_on_discovery_is_405(client: FlaskClient) -> None:
    response = client.post("/cds-services", json={})
    operation_outcome(response, 405)
    assert "GET" in response.headers["Allow"]


def test_not_json_is_415(client: FlaskClient) -> None:
    operation_outcome(client.post(SERVICE, data="hook=patient-view",
                                  content_type="application/x-www-form-urlencoded"),
                      415, "not-supported")


def test_412_when_required_data_is_unobtainable(client: FlaskClient) -> None:
    operation_outcome(client.post(SERVICE, json=hook_body("patient-view")), 412, "incomplete")


def test_413_when_the_body_is_too_large() -> None:
    client = make_test_app(max_body_bytes=2048).test_client()
    body = hook_body("patient-view", prefetch=required_prefetch())
    body["padding"] = "x" * 4096
    operation_outcome(client.post(SERVICE, json=body), 413, "too-long")


def test_unexpected_failure_is_500_without_internals(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_core(*_: object, **__: object) -> None:
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr(hooks, "evaluate", broken_core)
    with caplog.at_level(logging.ERROR):
        response = client.post(SERVICE, json=hook_body("patient-view",
                                                       prefetch=required_prefetch()))
    issue = operation_outcome(response, 500, "exception")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in issue["diagnostics"]
    (line,) = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    # the log names the exception's type and place, never its text or a traceback: an
    # exception's text may quote the request (a name the log filter does not know)
    assert line.getMessage().startswith("unhandled error answering a request: RuntimeError "
                                        "at test_conformance_errors.py:")
    assert "secret" not in caplog.text and line.exc_info is None


def test_the_service_answers_normally_after_a_500(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(hooks, "evaluate", lambda *a, **k: 1 / 0)
        assert client.post(SERVICE, json=hook_body(
            "patient-view", prefetch=required_prefetch())).status_code == 500
    response = client.post(SERVICE, json=hook_body("patient-view", prefetch=required_prefetch()))
    assert response.status_code == 200


def test_requests_are_counted_by_service_hook_and_status(client: FlaskClient) -> None:
    counter = metrics.REQUESTS.labels(service="back-pain-patient-view", hook="patient-view",
                                      status="412")
    before = counter._value.get()
    client.post(SERVICE, json=hook_body("patient-view"))
    assert counter._value.get() == before + 1


@pytest.mark.parametrize("path", ["/cds-services", SERVICE])
def test_cors_preflight(client: FlaskClient, path: str) -> None:
    response = client.options(path, headers={
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*",
                                                               "https://sandbox.cds-hooks.org")
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "OPTIONS"} <= methods
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_cors_headers_also_on_errors(client: FlaskClient) -> None:
    response = client.post(SERVICE, json=hook_body("patient-view"),
                           headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert response.status_code == 412
    assert "Access-Control-Allow-Origin" in response.headers


def test_cors_origins_are_configurable() -> None:
    client = make_test_app(cors_origins=("https://ehr.example.org",)).test_client()
    allowed = client.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    other = client.get("/cds-services", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
