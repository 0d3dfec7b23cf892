"""OpenTelemetry: a hook call carrying the EHR's W3C ``traceparent`` yields spans in that
trace (parse, trust, prefetch, record, rules, cards, the FHIR requests), and the real test
FHIR server receives a ``traceparent`` of the same trace on every fetch. Spans go to an
in-memory exporter. Tracing is off by default and no span names the patient.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import fhir_samples
from service import tracing
from tests.fhir_server_fixture import FhirServer
from tests.helpers import make_test_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT}-01"
SCENARIO = fhir_samples.load("ces-diagnosis-g834")
SERVICE = "back-pain-encounter-start"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def server(fhir_server: FhirServer) -> Iterator[FhirServer]:
    fhir_server.load(SCENARIO.patient_resources())
    fhir_server.reset_requests()
    yield fhir_server


def traced_app(exporter: InMemorySpanExporter, fhir_base: str) -> Any:
    app = make_test_app(clock=lambda: SCENARIO.now, fhir_server_allowlist=(fhir_base,),
                        allow_http_loopback=True, fhir_deadline_seconds=10.0,
                        fhir_timeout_seconds=5.0)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.init_app(app, tracer_provider=provider)
    return app


def fetch_everything(fhir_base: str) -> dict[str, Any]:
    body = copy.deepcopy(SCENARIO.request_body())
    del body["prefetch"]
    body["fhirServer"] = fhir_base
    body["fhirAuthorization"] = {"access_token": "trace-test-token", "token_type": "Bearer",
                                 "expires_in": 300, "scope": "patient/*.read",
                                 "subject": "backpain-cds"}
    return body


def test_a_traced_hook_call_joins_the_ehrs_trace_and_carries_it_to_the_fhir_server(
        server: FhirServer, exporter: InMemorySpanExporter) -> None:
    app = traced_app(exporter, server.base)
    response = app.test_client().post(f"/cds-services/{SERVICE}", json=fetch_everything(
        server.base), headers={"traceparent": TRACEPARENT})
    assert response.status_code == 200, response.get_json()
    assert {c["source"]["topic"]["code"] for c in response.get_json()["cards"]} == \
        {t for t, _ in SCENARIO.expected}

    spans = exporter.get_finished_spans()
    assert spans and {format(s.context.trace_id, "032x") for s in spans} == {TRACE_ID}
    names = {s.name for s in spans}
    for step in ("parse", "trust", "prefetch", "record", "rules", "cards"):
        assert f"backpain-cds {step}" in names, sorted(names)
    root = next(s for s in spans if s.parent is not None
                and format(s.parent.span_id, "016x") == PARENT)
    assert root.kind.name == "SERVER"  # the Flask span, a child of the EHR's span
    fhir_spans = [s for s in spans if s.kind.name == "CLIENT"]
    assert fhir_spans, sorted(names)

    seen = server.requests()
    assert seen and all(r["traceparent"] and r["traceparent"].split("-")[1] == TRACE_ID
                        for r in seen), seen
    # the FHIR server saw the span ids of our client spans, so its work joins the trace
    client_ids = {format(s.context.span_id, "016x") for s in fhir_spans}
    assert {r["traceparent"].split("-")[2] for r in seen} <= client_ids

    patient_id = SCENARIO.patient_id
    for span in spans:
        for value in (span.attributes or {}).values():
            assert patient_id not in str(value), (span.name, value)


def test_tracing_is_off_by_default(server: FhirServer) -> None:
    assert not tracing.enabled({})
    assert tracing.enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert not tracing.enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                                "OTEL_SDK_DISABLED": "true"})
    assert not tracing.enabled({"OTEL_TRACES_EXPORTER": "none"})
    app = make_test_app(clock=lambda: SCENARIO.now, fhir_server_allowlist=(server.base,),
                        allow_http_loopback=True, fhir_deadline_seconds=10.0)
    assert tracing.EXTENSION_KEY not in app.extensions["backpain"]
    response = app.test_client().post(f"/cds-services/{SERVICE}",
                                      json=fetch_everything(server.base),
                                      headers={"traceparent": TRACEPARENT})
    assert response.status_code == 200
    assert all(r["traceparent"] is None for r in server.requests())


def test_a_traced_app_records_its_spans_and_an_untraced_one_beside_it_none(
        exporter: InMemorySpanExporter) -> None:
    """Without a FHIR server (everything prefetched): the spans are the traced app's; an
    app of the same process without a tracer records none, though tracing.span no longer
    takes its shortcut once an app traces."""
    body = SCENARIO.request_body()
    untraced = make_test_app(clock=lambda: SCENARIO.now)
    app = traced_app(exporter, "http://127.0.0.1:9/fhir")
    assert tracing._any_app_traces
    response = app.test_client().post(f"/cds-services/{SERVICE}", json=body)
    assert response.status_code == 200, response.get_json()
    names = {s.name for s in exporter.get_finished_spans()}
    for step in ("parse", "prefetch", "record", "rules", "cards"):
        assert f"backpain-cds {step}" in names, sorted(names)
    exporter.clear()
    assert untraced.test_client().post(f"/cds-services/{SERVICE}", json=body).status_code == 200
    assert not [s for s in exporter.get_finished_spans() if s.name.startswith("backpain-cds")]
