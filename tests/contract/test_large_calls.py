"""A worker evaluates at most LARGE_CALLS_PER_WORKER large hook calls at once
(service.admission: a worker's memory grows with each large body it holds, issue #15).

Real calls through the app on real threads; the first large call is held in flight by a
real, slow FHIR server it must read its observations from. Meanwhile another large call
waits its turn and, past LARGE_CALL_WAIT_SECONDS, is answered 503 with Retry-After; a
small call is never held up; and the slot is free again once the first call is answered,
whether it succeeded or was refused as invalid."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY

from service.admission import LargeCallGate
from tests.helpers import make_test_app
from tests.ops_support import (
    SlowFhirServer,
    card_pairs,
    pick_scenario,
    shifted_request_body,
    slow_fhir_server,
)

THRESHOLD = 2000  # bytes: the small scenario's body is below, the fetching call above
WAIT_S = 0.3
NOW = datetime.now(UTC)
SCENARIO = pick_scenario()  # a cauda equina emergency
SMALL = pick_scenario("cc-acute-lbp-snomed")


def refused() -> float:
    return REGISTRY.get_sample_value("backpain_cds_large_calls_total",
                                     {"outcome": "refused"}) or 0.0


@pytest.fixture(scope="module")
def upstream() -> Iterator[SlowFhirServer]:
    observations = shifted_request_body(SCENARIO, NOW)["prefetch"]["observations"]
    server = slow_fhir_server(observations, delay=1.5)
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def app(upstream: SlowFhirServer) -> Flask:
    return make_test_app(large_body_bytes=THRESHOLD, large_calls_per_worker=1,
                         large_call_wait_seconds=WAIT_S, allow_http_loopback=True,
                         fhir_server_allowlist=(base(upstream),), fhir_timeout_seconds=5.0,
                         fhir_deadline_seconds=8.0)


def base(server: SlowFhirServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def fetching_body(server: SlowFhirServer) -> bytes:
    """The emergency scenario with its observations left to be read from ``server``."""
    body = shifted_request_body(SCENARIO, NOW)
    del body["prefetch"]["observations"]
    body["fhirServer"] = base(server)
    body["fhirAuthorization"] = {"access_token": "large-call-test", "token_type": "Bearer",
                                 "expires_in": 300, "scope": "patient/*.read",
                                 "subject": "backpain-cds"}
    return json.dumps(body).encode()


def post(app: Flask, hook: str, body: bytes) -> tuple[int, dict[str, str], Any]:
    answer = app.test_client().post(f"/cds-services/back-pain-{hook}", data=body,
                                    content_type="application/json")
    return answer.status_code, dict(answer.headers), answer.get_json()


def test_a_second_large_call_waits_then_503_while_small_calls_pass(
        app: Flask, upstream: SlowFhirServer) -> None:
    large = fetching_body(upstream)
    small = json.dumps(shifted_request_body(SMALL, NOW)).encode()
    assert len(small) < THRESHOLD <= len(large)
    before, seen = refused(), upstream.requests
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(post, app, SCENARIO.hook, large)
        deadline = time.monotonic() + 10
        while upstream.requests == seen and time.monotonic() < deadline:
            time.sleep(0.02)  # the first call holds its slot, waiting on the FHIR server
        assert upstream.requests > seen, "the first call never reached the FHIR server"

        started = time.monotonic()
        status, headers, outcome = post(app, SCENARIO.hook, large)
        waited = time.monotonic() - started
        assert status == 503, outcome
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "transient"
        assert int(headers["Retry-After"]) >= 1
        assert waited >= WAIT_S * 0.9
        assert refused() == before + 1

        status, _, answer = post(app, SMALL.hook, small)  # never waits for a slot
        assert status == 200
        assert card_pairs(answer["cards"]) == set(SMALL.expected)

        status, _, answer = first.result(timeout=30)
    assert status == 200
    assert card_pairs(answer["cards"]) == set(SCENARIO.expected)
    status, _, answer = post(app, SCENARIO.hook, large)  # the slot is free again
    assert status == 200


def test_a_large_call_refused_as_invalid_gives_its_slot_back(
        app: Flask, upstream: SlowFhirServer) -> None:
    broken = b'{"hook": "patient-view", "padding": "' + b"x" * THRESHOLD + b'"'  # no closing brace
    for _ in range(3):
        status, _, outcome = post(app, SCENARIO.hook, broken)
        assert status == 400 and outcome["resourceType"] == "OperationOutcome"
    before = refused()
    status, _, _ = post(app, SCENARIO.hook, fetching_body(upstream))
    assert status == 200
    assert refused() == before


@pytest.mark.parametrize(("declared", "large"), [
    (None, True),  # chunked: its size is unknown until read
    (THRESHOLD - 1, False), (THRESHOLD, True), (10_000, True),
    (10_001, False),  # over the body limit: refused (413) before it is read, holds nothing
])
def test_which_calls_are_large(declared: int | None, large: bool) -> None:
    gate = LargeCallGate(THRESHOLD, slots=1, wait_seconds=0.0, max_body_bytes=10_000)
    assert gate.is_large(declared) is large
