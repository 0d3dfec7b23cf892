"""Fault injection for the FHIR client: every way a FHIR server can misbehave.

A threaded pytest-httpserver plays the misbehaving server (slow handlers must not block
the next test). Assertions are about what the client returns and what the server saw,
never about wall-clock speed.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from service.config import Settings
from service.fhir_client import NOT_ALLOWED, HttpFetcher, allowed_base
from service.ports import FetchResult
from tests.log_guard import register_secret

TOKEN = register_secret("tok-7f3a9c-secret")
PATIENT = "pat-4711"
FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    """Two threaded fake FHIR hosts for the module (starting one per test costs 0.5 s)."""
    pair = (HTTPServer(host="127.0.0.1", port=0, threaded=True),
            HTTPServer(host="127.0.0.1", port=0, threaded=True))
    for httpserver in pair:
        httpserver.start()
    yield pair
    for httpserver in pair:
        httpserver.stop()


@pytest.fixture
def server(servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    servers[0].clear()
    yield servers[0]
    servers[0].clear()


@pytest.fixture
def other_server(servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """A second host: must never be contacted by the client."""
    servers[1].clear()
    yield servers[1]
    servers[1].clear()


def settings(**changes: Any) -> Settings:
    base = Settings(
        allow_http_loopback=True,
        fhir_timeout_seconds=2.0,
        fhir_deadline_seconds=5.0,
        fhir_retries=2,
    )
    return base.replace(**changes)


def base_of(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/fhir")


def fetch(
    httpserver: HTTPServer,
    queries: dict[str, str],
    *,
    config: Settings | None = None,
    fetcher: HttpFetcher | None = None,
    token: str | None = TOKEN,
) -> FetchResult:
    own = fetcher is None
    fetcher = fetcher or HttpFetcher(config or settings())
    try:
        base = base_of(httpserver)
        return fetcher.fetch(queries, base, token, (base,))
    finally:
        if own:
            fetcher.close()


def bundle(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if next_url:
        body["link"] = [{"relation": "next", "url": next_url}]
    return body


def observation(n: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{n}",
        "status": "final",
        "code": {"text": "pain score"},
        "subject": {"reference": f"Patient/{PATIENT}"},
    }


PATIENT_RESOURCE = {"resourceType": "Patient", "id": PATIENT, "gender": "female"}
OBS_QUERY = f"Observation?patient={PATIENT}"


def settle(httpserver: HTTPServer, requests: int) -> None:
    """Wait for handlers the client gave up on, so they do not answer into the next test."""
    for _ in range(100):
        if len(httpserver.log) >= requests:
            return
        time.sleep(0.05)


def fhir_json(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(body), status=status, content_type=FHIR_JSON, headers=headers)


# --- what works, as the baseline the faults are measured against


def test_read_and_search_send_bearer_token_and_fhir_accept(server: HTTPServer) -> None:
    server.expect_request(
        f"/fhir/Patient/{PATIENT}",
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": FHIR_JSON},
    ).respond_with_json(PATIENT_RESOURCE)
    server.expect_request(
        "/fhir/Observation", query_string={"patient": PATIENT},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).respond_with_json(bundle([observation(1), observation(2)]))

    result = fetch(server, {"patient": f"Patient/{PATIENT}", "obs": OBS_QUERY})

    assert result.failed == {}
    assert result.resources["patient"] == [PATIENT_RESOURCE]
    assert [r["id"] for r in result.resources["obs"]] == ["obs-1", "obs-2"]


def test_no_token_sends_no_authorization_header(server: HTTPServer) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"}, token=None)
    assert result.resources["patient"] == [PATIENT_RESOURCE]
    (request, _), = server.log
    assert "Authorization" not in request.headers


def test_keys_are_fetched_concurrently(server: HTTPServer) -> None:
    """Each handler waits until all three requests are in flight: serial fetching fails."""
    barrier = threading.Barrier(3, timeout=3)

    def together(request: Request) -> Response:
        barrier.wait()
        return fhir_json(bundle([observation(1)]))

    for name in ("Condition", "Observation", "MedicationRequest"):
        server.expect_request(f"/fhir/{name}").respond_with_handler(together)
    queries = {
        "conditions": f"Condition?patient={PATIENT}",
        "observations": OBS_QUERY,
        "medications": f"MedicationRequest?patient={PATIENT}",
    }
    result = fetch(server, queries)
    assert result.failed == {}
    assert set(result.resources) == set(queries)


# --- timeouts and the overall deadline


def test_timeout_of_one_request_fails_the_key(server: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(1.5)
        return fhir_json(PATIENT_RESOURCE)

    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_handler(slow)
    server.expect_request("/fhir/Condition").respond_with_json(bundle([]))
    try:
        result = fetch(
            server,
            {"patient": f"Patient/{PATIENT}", "conditions": f"Condition?patient={PATIENT}"},
            config=settings(fhir_timeout_seconds=0.3),
        )
    finally:
        release.set()
        settle(server, 2)
    assert result.failed == {"patient": "timeout"}
    assert result.resources == {"conditions": []}


def test_server_trickling_bytes_past_the_deadline_fails_the_key(server: HTTPServer) -> None:
    """Every chunk arrives well within the per-request timeout; the deadline still holds."""
    stop = threading.Event()

    def trickle(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'{"resourceType":"Bundle","type":"searchset","entry":['
            for n in range(100):
                if stop.wait(0.05):
                    return
                yield (b"," if n else b"") + json.dumps({"resource": observation(n)}).encode()
            yield b"]}"

        return Response(body(), content_type=FHIR_JSON)

    server.expect_request("/fhir/Observation").respond_with_handler(trickle)
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    try:
        result = fetch(
            server,
            {"observations": OBS_QUERY, "patient": f"Patient/{PATIENT}"},
            config=settings(fhir_timeout_seconds=1.0, fhir_deadline_seconds=0.5),
        )
    finally:
        stop.set()
    assert result.failed == {"observations": "deadline"}
    assert result.resources == {"patient": [PATIENT_RESOURCE]}


def test_hung_server_past_the_deadline_returns_with_the_key_failed(server: HTTPServer) -> None:
    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(3)
        return fhir_json(PATIENT_RESOURCE)

    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_handler(hang)
    try:
        result = fetch(
            server,
            {"patient": f"Patient/{PATIENT}"},
            config=settings(fhir_timeout_seconds=2.0, fhir_deadline_seconds=0.3),
        )
    finally:
        release.set()
        settle(server, 1)
    assert result.failed == {"patient": "deadline"}
    assert result.resources == {}


# --- HTTP errors, retries


@pytest.mark.parametrize(
    ("status", "reason"),
    [(500, "http 500"), (401, "unauthorized"), (403, "forbidden"), (404, "not found"),
     (400, "http 400")],
)
def test_error_status_fails_the_key_without_retry(
    server: HTTPServer, status: int, reason: str
) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error",
                                                              "code": "processing"}]}
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(outcome, status=status)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"})
    assert result.failed == {"patient": reason}
    assert len(server.log) == 1  # not retried: not a transient status, or not idempotent-safe


def test_429_with_retry_after_is_retried_then_succeeds(server: HTTPServer) -> None:
    server.expect_ordered_request(f"/fhir/Patient/{PATIENT}").respond_with_json(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "throttled"}]},
        status=429, headers={"Retry-After": "1"},
    )
    server.expect_ordered_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"})
    assert result.failed == {}
    assert result.resources["patient"] == [PATIENT_RESOURCE]
    assert len(server.log) == 2
    server.check_assertions()


def test_503_with_retry_after_as_an_http_date_is_retried(server: HTTPServer) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    server.expect_ordered_request(f"/fhir/Patient/{PATIENT}").respond_with_data(
        "", status=503, headers={"Retry-After": soon})
    server.expect_ordered_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"})
    assert result.resources == {"patient": [PATIENT_RESOURCE]}
    assert len(server.log) == 2


def test_429_whose_retry_after_exceeds_the_deadline_fails_without_waiting(
    server: HTTPServer,
) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_data(
        "", status=429, headers={"Retry-After": "120"}
    )
    result = fetch(server, {"patient": f"Patient/{PATIENT}"},
                   config=settings(fhir_deadline_seconds=1.0))
    assert result.failed == {"patient": "http 429"}
    assert len(server.log) == 1


def test_503_is_retried_at_most_fhir_retries_attempts(server: HTTPServer) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_data("", status=503)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"}, config=settings(fhir_retries=3))
    assert result.failed == {"patient": "http 503"}
    assert len(server.log) == 3


def test_redirect_is_not_followed(server: HTTPServer, other_server: HTTPServer) -> None:
    """Following it would hand the bearer token to whoever the Location names."""
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_data(
        "", status=302, headers={"Location": other_server.url_for(f"/fhir/Patient/{PATIENT}")}
    )
    result = fetch(server, {"patient": f"Patient/{PATIENT}"})
    assert result.failed == {"patient": "redirect"}
    assert other_server.log == []


# --- bodies that are not what was asked for


@pytest.mark.parametrize(
    "body",
    [b'{"resourceType": "Bundle", "entry": [', b"<html>gateway</html>", b"[]",
     b'{"hello": "world"}', b'{"resourceType": "Bundle", "entry": [{"fullUrl": "x"}]}',
     b'{"resourceType": "Bundle", "entry": {"resource": {}}}'],
    ids=["truncated-json", "html", "json-array", "not-fhir", "entry-without-resource",
         "entry-not-a-list"],
)
def test_malformed_body_fails_the_key(server: HTTPServer, body: bytes) -> None:
    server.expect_request("/fhir/Observation").respond_with_data(body, content_type=FHIR_JSON)
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.failed == {"observations": "malformed"}


def test_read_answered_with_another_resource_type_is_malformed(server: HTTPServer) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(observation(1))
    result = fetch(server, {"patient": f"Patient/{PATIENT}"})
    assert result.failed == {"patient": "malformed"}


def test_operation_outcome_body_fails_the_key(server: HTTPServer) -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "exception"}]}
    server.expect_request("/fhir/Observation").respond_with_json(outcome)
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.failed == {"observations": "operation outcome"}


def test_bundle_with_an_error_outcome_entry_fails_the_key(server: HTTPServer) -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "fatal", "code": "exception"}]}
    server.expect_request("/fhir/Observation").respond_with_json(
        bundle([observation(1), outcome])
    )
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.failed == {"observations": "operation outcome"}


def test_informational_outcome_entry_is_skipped(server: HTTPServer) -> None:
    note = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational"}]}
    server.expect_request("/fhir/Observation").respond_with_json(
        bundle([observation(1), note])
    )
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.resources == {"observations": [observation(1)]}


# --- paging


def test_pages_are_followed_and_flattened(server: HTTPServer) -> None:
    page2 = server.url_for("/fhir/Observation?patient=pat-4711&page=2")
    page3 = server.url_for("/fhir/Observation?patient=pat-4711&page=3")
    server.expect_request("/fhir/Observation", query_string={"patient": PATIENT}
                          ).respond_with_json(bundle([observation(1)], page2))
    server.expect_request("/fhir/Observation", query_string={"patient": PATIENT, "page": "2"}
                          ).respond_with_json(bundle([observation(2)], page3))
    server.expect_request("/fhir/Observation", query_string={"patient": PATIENT, "page": "3"}
                          ).respond_with_json(bundle([observation(3)]))
    result = fetch(server, {"observations": OBS_QUERY})
    assert [r["id"] for r in result.resources["observations"]] == ["obs-1", "obs-2", "obs-3"]
    assert all(req.headers["Authorization"] == f"Bearer {TOKEN}" for req, _ in server.log)


def test_paging_loop_is_detected(server: HTTPServer) -> None:
    page2 = server.url_for("/fhir/Observation?patient=pat-4711&page=2")
    page1 = server.url_for(f"/fhir/{OBS_QUERY}")
    server.expect_request("/fhir/Observation", query_string={"patient": PATIENT}
                          ).respond_with_json(bundle([observation(1)], page2))
    server.expect_request("/fhir/Observation", query_string={"patient": PATIENT, "page": "2"}
                          ).respond_with_json(bundle([observation(2)], page1))
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.failed == {"observations": "paging loop"}
    assert len(server.log) == 2


def test_page_count_is_bounded(server: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        page = int(request.args.get("page", "1"))
        next_url = server.url_for(f"/fhir/Observation?patient={PATIENT}&page={page + 1}")
        return fhir_json(bundle([observation(page)], next_url))

    server.expect_request("/fhir/Observation").respond_with_handler(endless)
    result = fetch(server, {"observations": OBS_QUERY}, config=settings(fhir_max_pages=4))
    assert result.failed == {"observations": "too many pages"}
    assert len(server.log) == 4


def test_next_link_to_another_host_is_never_followed(
    server: HTTPServer, other_server: HTTPServer
) -> None:
    elsewhere = other_server.url_for(f"/fhir/Observation?patient={PATIENT}&page=2")
    server.expect_request("/fhir/Observation").respond_with_json(
        bundle([observation(1)], elsewhere)
    )
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.failed == {"observations": "next link off server"}
    assert other_server.log == []


def test_next_link_outside_the_base_path_is_never_followed(server: HTTPServer) -> None:
    server.expect_request("/fhir/Observation").respond_with_json(
        bundle([observation(1)], server.url_for("/admin/export"))
    )
    result = fetch(server, {"observations": OBS_QUERY})
    assert result.failed == {"observations": "next link off server"}
    assert len(server.log) == 1


# --- size bounds


def test_enormous_bundle_is_cut_off_at_the_byte_cap() -> None:
    """A 64 MiB Bundle: the client stops reading at the 1 MiB cap and holds little more.

    A raw socket server that sends one preallocated buffer over and over, so that the
    traced memory is the client's alone.
    """
    cap = 1024 * 1024
    entry = json.dumps({"resource": observation(1)}).encode() + b","
    chunk = entry * (65536 // len(entry))
    sent = [0]
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                         b"Connection: close\r\n\r\n"
                         b'{"resourceType":"Bundle","type":"searchset","entry":[')
            try:
                while sent[0] < 64 * 1024 * 1024:
                    conn.sendall(chunk)
                    sent[0] += len(chunk)
            except OSError:
                pass  # the client hung up: what it should do

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}/fhir"
    fetcher = HttpFetcher(settings(), max_response_bytes=cap)
    tracemalloc.start()
    try:
        result = fetcher.fetch({"observations": OBS_QUERY}, base, TOKEN, (base,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        fetcher.close()
        thread.join(timeout=5)
        listener.close()
    assert result.failed == {"observations": "too large"}
    assert peak < 3 * cap
    assert sent[0] < 32 * 1024 * 1024  # stopped reading long before the end


def test_declared_content_length_over_the_cap_is_not_read(server: HTTPServer) -> None:
    server.expect_request("/fhir/Observation").respond_with_data(
        b" " * 4096, content_type=FHIR_JSON
    )
    fetcher = HttpFetcher(settings(), max_response_bytes=1024)
    try:
        result = fetch(server, {"observations": OBS_QUERY}, fetcher=fetcher)
    finally:
        fetcher.close()
    assert result.failed == {"observations": "too large"}


def test_resource_count_is_capped_across_keys(server: HTTPServer) -> None:
    server.expect_request("/fhir/Observation").respond_with_json(
        bundle([observation(n) for n in range(30)])
    )
    server.expect_request("/fhir/Condition").respond_with_json(bundle([]))
    result = fetch(
        server,
        {"observations": OBS_QUERY, "conditions": f"Condition?patient={PATIENT}"},
        config=settings(fhir_max_resources=25),
    )
    assert result.failed == {"observations": "too many resources"}
    assert result.resources == {"conditions": []}


# --- unreachable and untrusted servers


def test_server_that_is_down_fails_every_key() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}/fhir"  # closed: nothing listens there any more
    fetcher = HttpFetcher(settings())
    try:
        result = fetcher.fetch(
            {"patient": f"Patient/{PATIENT}", "observations": OBS_QUERY}, base, TOKEN, (base,)
        )
    finally:
        fetcher.close()
    assert result.failed == {"patient": "unreachable", "observations": "unreachable"}


def test_unlisted_fhir_server_is_never_contacted(server: HTTPServer) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    fetcher = HttpFetcher(settings())
    try:
        result = fetcher.fetch(
            {"patient": f"Patient/{PATIENT}", "observations": OBS_QUERY},
            base_of(server), TOKEN, ("https://ehr.example.org/fhir",),
        )
    finally:
        fetcher.close()
    assert result.failed == {"patient": NOT_ALLOWED, "observations": NOT_ALLOWED}
    assert server.log == []


def test_http_loopback_refused_unless_allowed(server: HTTPServer) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"},
                   config=settings(allow_http_loopback=False))
    assert result.failed == {"patient": NOT_ALLOWED}
    assert server.log == []


def test_allowlist_from_settings_applies_to_every_client(server: HTTPServer) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    fetcher = HttpFetcher(settings(fhir_server_allowlist=(base_of(server) + "/",)))
    try:
        result = fetcher.fetch({"patient": f"Patient/{PATIENT}"}, base_of(server), TOKEN, ())
    finally:
        fetcher.close()
    assert result.resources == {"patient": [PATIENT_RESOURCE]}


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "two words", "", "tök"])
def test_token_that_cannot_be_a_header_value_is_never_sent(server: HTTPServer,
                                                          token: str) -> None:
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    result = fetch(server, {"patient": f"Patient/{PATIENT}"}, token=token)
    assert result.failed == {"patient": "bad token"}
    assert server.log == []


@pytest.mark.parametrize(
    ("server_url", "allowed"),
    [
        ("http://ehr.example.org/fhir", ("http://ehr.example.org/fhir",)),  # http off loopback
        ("http://10.1.2.3/fhir", ("http://10.1.2.3/fhir",)),
        ("https://ehr.example.org/fhir", ("https://ehr.example.org/fhir/r4",)),
        ("https://user:pw@ehr.example.org/fhir", ("https://ehr.example.org/fhir",)),
        ("https://ehr.example.org.evil.test/fhir", ("https://ehr.example.org/fhir",)),
        ("https://ehr.example.org:8443/fhir", ("https://ehr.example.org/fhir",)),
        ("ftp://ehr.example.org/fhir", ("ftp://ehr.example.org/fhir",)),
        ("not a url", ("not a url",)),
    ],
)
def test_allowed_base_refuses(server_url: str, allowed: tuple[str, ...]) -> None:
    assert allowed_base(server_url, allowed, allow_http_loopback=True) is None


@pytest.mark.parametrize(
    ("server_url", "allowed", "http_ok"),
    [
        ("https://ehr.example.org/fhir/", ("https://ehr.example.org/fhir",), False),
        ("https://EHR.example.org/fhir", ("https://ehr.example.org/fhir/",), False),
        ("http://127.0.0.2:8080/fhir", ("http://127.0.0.2:8080/fhir",), True),
        ("http://localhost:8080/fhir", ("http://localhost:8080/fhir",), True),
        ("http://[::1]:8080/fhir", ("http://[::1]:8080/fhir",), True),
    ],
)
def test_allowed_base_accepts(server_url: str, allowed: tuple[str, ...], http_ok: bool) -> None:
    assert allowed_base(server_url, allowed, allow_http_loopback=http_ok) is not None


@pytest.mark.parametrize(
    "query", ["../admin", "Patient/../../admin", "//evil.test/fhir/Patient/1",
              "https://evil.test/Patient/1", "Patient/1#x", "Patient/1 2"],
)
def test_query_cannot_leave_the_base(server: HTTPServer, query: str) -> None:
    result = fetch(server, {"patient": query})
    assert result.failed == {"patient": "bad query"}
    assert server.log == []


# --- secrets stay out of logs and reasons


def test_token_and_patient_id_never_logged(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request(f"/fhir/Patient/{PATIENT}").respond_with_json(PATIENT_RESOURCE)
    server.expect_request("/fhir/Observation").respond_with_data("oops", status=500)
    server.expect_request("/fhir/Condition").respond_with_data("{", content_type=FHIR_JSON)
    result = fetch(
        server,
        {"patient": f"Patient/{PATIENT}", "observations": OBS_QUERY,
         "conditions": f"Condition?patient={PATIENT}"},
    )
    assert set(result.failed) == {"observations", "conditions"}
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "http 500" in ours  # the failures were logged ...
    for text in (TOKEN, PATIENT):  # ... without the token or the patient id
        assert text not in ours
        assert all(text not in reason for reason in result.failed.values())
