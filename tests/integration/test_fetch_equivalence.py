"""End to end: what the service fetches itself gives the same cards as what the EHR prefetches.

Every ``fhir_samples`` scenario is loaded into a real FHIR server (Medplum, see
``tests/fhir_server_fixture.py``). Each is then sent through the real Flask app twice: once
fully prefetched, once with no prefetch at all but ``fhirServer`` + ``fhirAuthorization``
pointing at that server. The cards must be the same. The second half checks how the
service degrades when the server cannot give what is needed (412 / data gaps).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import fhir_samples
from cds_rules import mended_text_gap
from fhir_samples import Scenario
from tests.fhir_server_fixture import FhirServer
from tests.helpers import SERVICE_OF_HOOK, make_test_app
from tests.log_guard import register_secret

pytestmark = pytest.mark.fhirserver

TOKEN = register_secret("equivalence-access-token-91c2")
FHIR_JSON = "application/fhir+json"
SCENARIOS = fhir_samples.load_all()


@pytest.fixture(scope="module")
def server(fhir_server: FhirServer) -> FhirServer:
    """The FHIR server holding every scenario's patient at once (ids are unique across them),
    so each fetch must pick its own patient's data out of 80 patients'."""
    owner: dict[tuple[str, str], str] = {}
    resources: list[dict[str, Any]] = []
    for scenario in SCENARIOS:
        for resource in scenario.patient_resources():
            ident = (resource["resourceType"], resource["id"])
            assert ident not in owner, f"{ident} is in both {owner[ident]} and {scenario.id}"
            owner[ident] = scenario.id
            resources.append(resource)
    fhir_server.clear()
    assert fhir_server.load(resources) == len(resources)
    return fhir_server


def app_for(scenario: Scenario, fhir_base: str) -> Flask:
    return make_test_app(
        clock=lambda: scenario.now,
        fhir_server_allowlist=(fhir_base,),
        allow_http_loopback=True,
        fhir_deadline_seconds=10.0,  # a slow CI machine must not turn into data gaps
        fhir_timeout_seconds=5.0,
    )


def fetch_instead(body: dict[str, Any], fhir_base: str) -> dict[str, Any]:
    """``body`` with no prefetch at all, and a FHIR server and token to read it from."""
    body = copy.deepcopy(body)
    del body["prefetch"]
    body["fhirServer"] = fhir_base
    body["fhirAuthorization"] = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "backpain-cds",
    }
    return body


def call(app: Flask, scenario: Scenario, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}",
                                      json=body)
    return response.status_code, response.get_json()


def comparable(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The cards without the uuids that differ on every call, in a stable order."""
    cards = copy.deepcopy(answer["cards"])
    for card in cards:
        card.pop("uuid", None)
        for suggestion in card.get("suggestions", []):
            suggestion.pop("uuid", None)
    return sorted(cards, key=lambda c: (c["source"]["topic"]["code"], c["indicator"]))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_fetched_cards_equal_prefetched_cards(server: FhirServer, scenario: Scenario) -> None:
    app = app_for(scenario, server.base)
    body = scenario.request_body()

    status, prefetched = call(app, scenario, body)
    assert status == 200, prefetched
    server.reset_requests()
    status, fetched = call(app, scenario, fetch_instead(body, server.base))
    assert status == 200, fetched

    assert comparable(fetched) == comparable(prefetched)
    assert fetched.get("systemActions") == prefetched.get("systemActions")
    if scenario.expected:  # the comparison is about real cards, not two empty lists
        assert prefetched["cards"]
    reads = server.requests()
    assert reads, "nothing was fetched"
    assert {r["authorization"] for r in reads} == {f"Bearer {TOKEN}"}
    assert all(r["method"] == "GET" for r in reads)


def test_paged_prefetch_is_completed_from_the_fhir_server(server: FhirServer) -> None:
    """The EHR prefetched only the first page of Conditions: the service reads the rest."""
    scenario = fhir_samples.load("safety-ces-sign-among-noise")
    first_page = httpx.get(f"{server.base}/Condition",
                           params={"patient": scenario.patient_id, "_count": "2"}).json()
    assert any(link["relation"] == "next" for link in first_page["link"])
    app = app_for(scenario, server.base)
    body = scenario.request_body()
    status, prefetched = call(app, scenario, body)
    assert status == 200, prefetched

    paged = fetch_instead(body, server.base)
    paged["prefetch"] = {**body["prefetch"], "conditions": first_page}
    server.reset_requests()
    status, completed = call(app, scenario, paged)
    assert status == 200, completed

    assert comparable(completed) == comparable(prefetched)
    pages = server.requests()  # 7 Conditions, 2 a page: pages 2, 3 and 4 were read
    assert [r["url"].split("?")[0] for r in pages] == ["/fhir/Condition"] * 3


def test_a_cut_emoji_on_the_server_keeps_the_cards(server: FhirServer) -> None:
    """Every text of a red-flag patient on the server ends in half an emoji (a lone
    surrogate, sent as its escape): the fetched pages are read, not failed as malformed,
    and the cards are the prefetched ones, each saying a word may be garbled."""
    scenario = fhir_samples.load("ces-urinary-retention-snomed-observation")
    own = scenario.patient_id
    renamed = json.loads(json.dumps(scenario.patient_resources()).replace(own, own + "-cut"))
    for resource in renamed:
        if resource["resourceType"] != "Patient":
            resource["code"]["coding"][0]["display"] += " \ud83d"
    assert server.load(renamed) == len(renamed)
    body = scenario.request_body()
    body["context"]["patientId"] = own + "-cut"
    status, fetched = call(app_for(scenario, server.base), scenario,
                           fetch_instead(body, server.base))
    assert status == 200, fetched
    assert {(c["source"]["topic"]["code"], c["indicator"]) for c in fetched["cards"]} \
        == scenario.expected
    gap = mended_text_gap(len(renamed) - 1)
    assert all(gap in card["detail"] for card in fetched["cards"])


# --- when the FHIR server cannot give what is needed

SAMPLE = next(s for s in SCENARIOS if s.expected)


def test_required_patient_not_on_the_server_is_412(server: FhirServer) -> None:
    body = SAMPLE.request_body()
    body["context"]["patientId"] = "eq-nobody"
    status, answer = call(app_for(SAMPLE, server.base), SAMPLE,
                          fetch_instead(body, server.base))
    assert status == 412
    assert answer["resourceType"] == "OperationOutcome"
    assert "patient" in answer["issue"][0]["diagnostics"]


def test_unlisted_fhir_server_is_412_and_never_contacted(server: FhirServer) -> None:
    app = make_test_app(clock=lambda: SAMPLE.now, allow_http_loopback=True,
                        fhir_server_allowlist=("https://ehr.example.org/fhir",))
    server.reset_requests()
    status, answer = call(app, SAMPLE, fetch_instead(SAMPLE.request_body(), server.base))
    assert status == 412
    assert answer["resourceType"] == "OperationOutcome"
    assert server.requests() == []


Answer = Callable[[Request], "Response | None"]


@pytest.fixture
def relay(server: FhirServer) -> Iterator[Callable[[Answer], str]]:
    """``relay(answer)`` starts a FHIR server at the returned base that gives ``answer``'s
    response where it returns one, and otherwise relays the request to the real server."""
    httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    httpserver.start()
    upstream = httpx.Client(timeout=10.0, trust_env=False)
    base = httpserver.url_for("/fhir")

    def start(answer: Answer) -> str:
        def handle(request: Request) -> Response:
            own = answer(request)
            if own is not None:
                return own
            path = request.full_path.removeprefix("/fhir/").rstrip("?")
            real = upstream.get(f"{server.base}/{path}")
            body = real.content.replace(server.base.encode(), base.encode())  # next links
            return Response(body, status=real.status_code, content_type=FHIR_JSON)

        httpserver.expect_request(re.compile("^/fhir/")).respond_with_handler(handle)
        return base

    yield start
    httpserver.stop()
    upstream.close()


def test_optional_key_failing_is_a_data_gap_not_an_error(
    relay: Callable[[Answer], str],
) -> None:
    """Observations answer 500: the call still answers, and the cards say what is missing."""

    def observations_broken(request: Request) -> Response | None:
        if request.path == "/fhir/Observation":
            return Response("boom", status=500)
        return None

    base = relay(observations_broken)
    status, answer = call(app_for(SAMPLE, base), SAMPLE,
                          fetch_instead(SAMPLE.request_body(), base))
    assert status == 200, answer
    assert answer["cards"]
    assert all("observations" in card.get("detail", "") for card in answer["cards"])


def test_a_page_with_a_byte_order_mark_is_read(relay: Callable[[Answer], str],
                                              server: FhirServer) -> None:
    """A FHIR server that writes a UTF-8 byte order mark before its JSON (some .NET
    servers): the page is read (RFC 8259 8.1), not failed as malformed."""
    upstream = httpx.Client(timeout=10.0, trust_env=False)

    def with_a_mark(request: Request) -> Response | None:
        if request.path != "/fhir/Observation":
            return None
        real = upstream.get(f"{server.base}/Observation", params=request.args)
        return Response(b"\xef\xbb\xbf" + real.content, status=200, content_type=FHIR_JSON)

    base = relay(with_a_mark)
    scenario = fhir_samples.load("ces-urinary-retention-snomed-observation")
    status, fetched = call(app_for(scenario, base), scenario,
                           fetch_instead(scenario.request_body(), base))
    upstream.close()
    assert status == 200, fetched
    assert {(c["source"]["topic"]["code"], c["indicator"]) for c in fetched["cards"]} \
        == {("cauda-equina", "critical")}
    assert all("observations" not in card["detail"] for card in fetched["cards"])


def test_fhir_server_refusing_the_token_is_412(relay: Callable[[Answer], str]) -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "login"}]}

    def refuse(request: Request) -> Response:
        return Response(json.dumps(outcome), status=401, content_type=FHIR_JSON)

    base = relay(refuse)
    status, answer = call(app_for(SAMPLE, base), SAMPLE,
                          fetch_instead(SAMPLE.request_body(), base))
    assert status == 412
    assert answer["resourceType"] == "OperationOutcome"
    assert "unauthorized" in answer["issue"][0]["diagnostics"]
