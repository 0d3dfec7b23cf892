"""The FHIR client against a real FHIR R4 server (Medplum's in-memory router, via node)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.config import Settings
from service.fhir_client import NOT_ALLOWED, HttpFetcher
from tests.fhir_server_fixture import FhirServer
from tests.log_guard import register_secret

pytestmark = pytest.mark.fhirserver

TOKEN = register_secret("real-server-token-5b1e")
ME = "rs-patient-1"
OTHER = "rs-patient-2"
CUT = "rs-patient-3"  # a note cut through an emoji: half of a surrogate pair
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
BODY_TEMP = "8310-5"
PAIN_SCORE = "72514-3"


def _observation(n: int, patient: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"rs-obs-{patient}-{n}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": f"2025-03-{n + 1:02d}T09:00:00Z",
    }


def _condition(cid: str, patient: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "code": {"coding": [{"system": SNOMED, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
    }


MY_OBSERVATIONS = [_observation(n, ME, BODY_TEMP if n % 2 else PAIN_SCORE) for n in range(7)]
RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": ME, "gender": "male", "birthDate": "1950-02-03"},
    {"resourceType": "Patient", "id": OTHER, "gender": "female", "birthDate": "1980-06-07"},
    _condition("rs-cond-1", ME, "279039007"),  # low back pain
    _condition("rs-cond-2", ME, "23056005"),  # sciatica
    _condition("rs-cond-3", OTHER, "279039007"),
    *MY_OBSERVATIONS,
    *[_observation(n, OTHER, BODY_TEMP) for n in range(3)],
    {
        "resourceType": "MedicationRequest",
        "id": "rs-med-1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "prednisone 10 mg"},
        "subject": {"reference": f"Patient/{ME}"},
    },
    {"resourceType": "Patient", "id": CUT, "gender": "male", "birthDate": "1960-01-02"},
    {**_condition("rs-cond-cut", CUT, "267064002"),
     "code": {"coding": [{"system": SNOMED, "code": "267064002",
                          "display": "Retention of urine \ud83d"}]}},
]


@pytest.fixture(scope="module")
def server(fhir_server: FhirServer) -> FhirServer:
    assert fhir_server.load(RESOURCES) == len(RESOURCES)
    return fhir_server


@pytest.fixture
def fetcher() -> Iterator[HttpFetcher]:
    client = HttpFetcher(Settings(allow_http_loopback=True, fhir_deadline_seconds=10.0,
                                  fhir_timeout_seconds=5.0))
    yield client
    client.close()


def _ids(resources: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in resources}


def test_read(server: FhirServer, fetcher: HttpFetcher) -> None:
    result = fetcher.fetch({"patient": f"Patient/{ME}"}, server.base, TOKEN, (server.base,))
    assert result.failed == {}
    (patient,) = result.resources["patient"]
    assert (patient["resourceType"], patient["id"], patient["birthDate"]) == (
        "Patient", ME, "1950-02-03")


def test_read_of_a_missing_resource_fails_the_key(server: FhirServer,
                                                  fetcher: HttpFetcher) -> None:
    result = fetcher.fetch({"patient": "Patient/rs-nobody"}, server.base, TOKEN, (server.base,))
    assert result.failed == {"patient": "not found"}


def test_patient_scoped_searches_return_only_that_patient(server: FhirServer,
                                                          fetcher: HttpFetcher) -> None:
    queries = {
        "conditions": f"Condition?patient={ME}",
        "sciatica": f"Condition?patient={ME}&code={SNOMED}|23056005",
        "temperatures": f"Observation?patient={ME}&code={LOINC}|{BODY_TEMP}",
        "medications": f"MedicationRequest?patient={ME}&status=active",
    }
    result = fetcher.fetch(queries, server.base, TOKEN, (server.base,))
    assert result.failed == {}
    assert _ids(result.resources["conditions"]) == {"rs-cond-1", "rs-cond-2"}
    assert _ids(result.resources["sciatica"]) == {"rs-cond-2"}
    assert _ids(result.resources["temperatures"]) == {
        o["id"] for o in MY_OBSERVATIONS if o["code"]["coding"][0]["code"] == BODY_TEMP}
    assert _ids(result.resources["medications"]) == {"rs-med-1"}


def test_small_count_forces_paging_through_next_links(server: FhirServer,
                                                      fetcher: HttpFetcher) -> None:
    server.reset_requests()
    result = fetcher.fetch({"observations": f"Observation?patient={ME}&_count=2"},
                           server.base, TOKEN, (server.base,))
    assert result.failed == {}
    observations = result.resources["observations"]
    assert len(observations) == len(MY_OBSERVATIONS)  # no page lost, none read twice
    assert _ids(observations) == _ids(MY_OBSERVATIONS)
    pages = server.requests()
    assert len(pages) == 4  # 7 resources, 2 a page
    assert all(p["url"].startswith("/fhir/Observation?") for p in pages)


def test_page_bound_applies_to_a_real_server(server: FhirServer) -> None:
    fetcher = HttpFetcher(Settings(allow_http_loopback=True, fhir_max_pages=3,
                                   fhir_deadline_seconds=10.0, fhir_timeout_seconds=5.0))
    try:
        result = fetcher.fetch({"observations": f"Observation?patient={ME}&_count=2"},
                               server.base, TOKEN, (server.base,))
    finally:
        fetcher.close()
    assert result.failed == {"observations": "too many pages"}


def test_bearer_token_and_accept_header_reach_the_server(server: FhirServer,
                                                         fetcher: HttpFetcher) -> None:
    server.reset_requests()
    fetcher.fetch({"patient": f"Patient/{ME}", "observations": f"Observation?patient={ME}"
                   "&_count=3"}, server.base, TOKEN, (server.base,))
    seen = server.requests()
    assert len(seen) == 4  # one read, three pages
    assert {r["authorization"] for r in seen} == {f"Bearer {TOKEN}"}
    assert {r["accept"] for r in seen} == {"application/fhir+json"}


def test_no_token_means_no_authorization_header(server: FhirServer,
                                                fetcher: HttpFetcher) -> None:
    server.reset_requests()
    result = fetcher.fetch({"patient": f"Patient/{ME}"}, server.base, None, (server.base,))
    assert result.resources["patient"][0]["id"] == ME
    assert [r["authorization"] for r in server.requests()] == [None]


def test_several_keys_at_once_and_fetcher_reused(server: FhirServer,
                                                 fetcher: HttpFetcher) -> None:
    queries = {
        "patient": f"Patient/{ME}",
        "conditions": f"Condition?patient={ME}",
        "observations": f"Observation?patient={ME}&_count=3",
        "medications": f"MedicationRequest?patient={ME}",
        "other": f"Observation?patient={OTHER}",
        "orders": f"ServiceRequest?patient={ME}",
    }
    for _ in range(3):  # one pooled client across calls
        result = fetcher.fetch(queries, server.base, TOKEN, (server.base,))
        assert result.failed == {}
        assert list(result.resources) == list(queries)
        assert _ids(result.resources["observations"]) == _ids(MY_OBSERVATIONS)
        assert len(result.resources["other"]) == 3
        assert result.resources["orders"] == []


def test_server_not_in_allowlist_is_never_contacted(server: FhirServer,
                                                    fetcher: HttpFetcher) -> None:
    server.reset_requests()
    result = fetcher.fetch({"patient": f"Patient/{ME}"}, server.base, TOKEN,
                           ("https://ehr.example.org/fhir",))
    assert result.failed == {"patient": NOT_ALLOWED}
    assert server.requests() == []


def test_a_lone_surrogate_from_the_server_is_read_and_counted(server: FhirServer,
                                                              fetcher: HttpFetcher) -> None:
    """The server writes the half emoji as the escape it was sent as; the page is read
    with U+FFFD in its place, not failed as malformed (the key's red flag kept)."""
    result = fetcher.fetch({"conditions": f"Condition?patient={CUT}"}, server.base, TOKEN,
                           (server.base,))
    assert result.failed == {}
    (condition,) = result.resources["conditions"]
    assert condition["code"]["coding"][0]["display"] == "Retention of urine \ufffd"
    assert result.mended == 1
    clean = fetcher.fetch({"conditions": f"Condition?patient={ME}"}, server.base, TOKEN,
                          (server.base,))
    assert clean.mended == 0
