"""The plain-Python load of hook requests (service.schemas.plain_load) against the request
schema it stands in for: every request of the scenarios and of the test helpers, and
envelopes mutated by hypothesis, must give ``load_call`` the very result the schema alone
gives (the same dict, keys in the same order, the prefetch's own objects), or the very
same 400 message.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import fhir_samples
from service import hooks
from service.errors import ServiceError
from service.schemas.common import flatten_errors
from service.schemas.plain_load import PlainLoader, plain_loader
from service.services import SERVICES, CdsService
from tests.helpers import hook_body, make_test_app, operation_outcome, required_prefetch

PLAIN = ("back-pain-patient-view", "back-pain-encounter-start")
PREFETCH_KEYS = list(SERVICES["back-pain-patient-view"].prefetch)
UUID = "c33d8426-ca58-4ce0-98c2-604ff09d7611"


def schema_load(service: CdsService, body: Any) -> tuple[str, Any]:
    """What load_call gave before the plain loader: the schema alone."""
    try:
        return "loaded", hooks._request_schema(service.request_schema).load(body)
    except ValidationError as exc:
        return "400", "Invalid hook request: " + "; ".join(flatten_errors(exc.messages))


def current_load(service: CdsService, body: Any) -> tuple[str, Any]:
    try:
        return "loaded", hooks.load_call(service, body)
    except ServiceError as exc:
        assert exc.status == 400
        return "400", exc.diagnostics


def shape(value: Any) -> Any:
    """``value`` with every dict as its list of items: equal shapes, equal key orders."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [shape(v) for v in value]
    return (type(value).__name__, value)


def assert_same_load(service: CdsService, body: Any) -> tuple[str, Any]:
    original = copy.deepcopy(body)
    want = schema_load(service, body)
    got = current_load(service, body)
    assert got[0] == want[0], (got, want)
    if got[0] == "400":
        assert got[1] == want[1]
    else:
        assert shape(got[1]) == shape(want[1])
        for key, value in got[1].get("prefetch", {}).items():  # the same objects, as Raw
            assert value is body["prefetch"][key]
    assert body == original  # neither load changes the body
    return got


def plain(service_id: str) -> PlainLoader:
    loader = hooks._plain_loader(SERVICES[service_id].request_schema)
    assert loader is not None
    return loader


def test_the_plain_loader_is_built_for_patient_view_and_encounter_start_only() -> None:
    for service in SERVICES.values():
        loader = plain_loader(hooks._request_schema(service.request_schema))
        assert (loader is not None) == (service.id in PLAIN)


def test_no_plain_loader_for_a_schema_that_refuses_unknown_fields() -> None:
    """The loader passes unknown top-level fields over, as the schema does now; a schema
    that refused them (``unknown = RAISE``) must answer every such body itself."""
    schema = hooks._request_schema(SERVICES["back-pain-patient-view"].request_schema)
    strict = type(schema)(unknown="raise")
    assert plain_loader(schema) is not None
    assert plain_loader(strict) is None


@pytest.mark.parametrize("setting", [{"data_key": "pid"}, {"attribute": "patient"},
                                     {"load_default": "enc-1"}])
def test_no_plain_loader_for_a_field_loaded_under_another_name_or_with_a_default(
        setting: dict[str, Any]) -> None:
    schema = hooks._request_schema(SERVICES["back-pain-patient-view"].request_schema)
    strict = type(schema)()
    field = strict.load_fields["context"].schema.load_fields["patientId"]  # type: ignore[attr-defined]
    for name, value in setting.items():
        setattr(field, name, value)
    assert plain_loader(strict) is None


def scenario_bodies() -> list[dict[str, Any]]:
    bodies = [s.request_body() for s in fhir_samples.load_all()]
    bodies += [s.request_body() for s in fhir_samples.load_site_scenarios()]
    for hook in ("patient-view", "encounter-start", "order-select", "order-sign"):
        bodies += [
            hook_body(hook, prefetch=required_prefetch()),
            hook_body(hook),
            hook_body(hook, prefetch=required_prefetch(), fhirServer="https://fhir.example/r4"),
            hook_body(hook, fhirServer="http://localhost:8080/fhir",
                      fhirAuthorization={"access_token": "t", "token_type": "Bearer",
                                         "expires_in": 300, "scope": "patient/*.read",
                                         "subject": "cds"}),
            hook_body(hook, prefetch=required_prefetch(), extension={"x": 1}),
        ]
    return bodies


def test_every_scenario_and_helper_request_loads_the_same_on_every_service() -> None:
    handled = 0
    for body in scenario_bodies():
        for service in SERVICES.values():
            if service.id in PLAIN and plain(service.id).load(body) is not None:
                handled += 1
            assert_same_load(service, body)
    # not vacuous: the scenarios' patient-view and encounter-start calls take the plain path
    assert handled >= len(fhir_samples.load_all()) // 2


@pytest.mark.parametrize("body", [
    [], "text", 3, None,
    {"hook": "patient-view", "hookInstance": UUID.upper(), "context": {
        "userId": "Practitioner/1", "patientId": "p-1\n"}},  # '$' allows a final newline
    {"hook": "patient-view", "hookInstance": "{" + UUID + "}", "context": {
        "userId": "Practitioner/1", "patientId": "p"}},
    {"hook": "patient-view", "hookInstance": "urn:uuid:" + UUID, "context": {
        "userId": "Practitioner/1", "patientId": "p", "encounterId": None}},
    {"hook": "patient-view", "hookInstance": UUID.replace("-", ""), "context": {
        "userId": "Practitioner/1", "patientId": "p"}, "prefetch": None},
    {"hook": "patient-view", "hookInstance": UUID, "context": {
        "userId": "Practitioner/1", "patientId": "p"}, "fhirServer": "ftp://x"},
    {"hook": "patient-view", "hookInstance": UUID, "context": {
        "userId": "Practitioner/1", "patientId": "p"}, "prefetch": {"patient": {}}},
])
def test_edge_envelopes_load_the_same(body: Any) -> None:
    for service_id in PLAIN:
        assert_same_load(SERVICES[service_id], body)


SPECIAL = st.sampled_from([
    "", " ", "patient-view", "encounter-start", "order-sign", UUID, UUID.upper(),
    UUID[:-1], "{" + UUID + "}", "urn:uuid:" + UUID, UUID.replace("-", ""), UUID + "\n",
    "Practitioner/1", "Practitioner/1\n", "practitioner/1", "Patient/p-1", "p-1", "p-1\n",
    "a" * 64, "a" * 65, "p 1", "p\u00e91", "http://fhir.example/r4", "https://x",
    "http://localhost:8080/fhir", "ftp://x", "not a url", "Patient", "Bundle",
])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
    | SPECIAL,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["resourceType", "id", "x"]) | st.text(max_size=4),
                      inner, max_size=3),
    max_leaves=6)
RESOURCE = st.fixed_dictionaries({"resourceType": st.one_of(
    SPECIAL, st.none(), st.integers(), st.just(""))}, optional={"id": JSON})
PATHS = [("hook",), ("hookInstance",), ("context",), ("context", "userId"),
         ("context", "patientId"), ("context", "encounterId"), ("context", "other"),
         ("prefetch",), ("fhirServer",), ("fhirAuthorization",), ("extension",), ("other",),
         *[("prefetch", key) for key in PREFETCH_KEYS], ("prefetch", "unknownKey"),
         ("prefetch", "patient", "resourceType")]
MUTATION = st.tuples(st.sampled_from(PATHS),
                     st.one_of(st.just("delete"), JSON, RESOURCE))


def base_bodies() -> list[dict[str, Any]]:
    scenario = fhir_samples.load("cc-acute-lbp-snomed").request_body()
    return [
        scenario,
        hook_body("patient-view", prefetch=required_prefetch()),
        hook_body("encounter-start", prefetch=required_prefetch(),
                  fhirServer="https://fhir.example/r4"),
        hook_body("patient-view", context={"userId": "Practitioner/1", "patientId": "p",
                                           "encounterId": "e-1"}),
    ]


def mutate(body: dict[str, Any], path: tuple[str, ...], change: Any) -> None:
    parent: Any = body
    for key in path[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(parent, dict):
        return
    if isinstance(change, str) and change == "delete":
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = change


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(4)), st.lists(MUTATION, max_size=4),
       st.sampled_from(PLAIN))
def test_mutated_envelopes_load_the_same(base: int, mutations: list[Any], service_id: str
                                         ) -> None:
    body = copy.deepcopy(base_bodies()[base])
    for path, change in mutations:
        mutate(body, path, copy.deepcopy(change))
    assert_same_load(SERVICES[service_id], body)


def test_a_hook_instance_is_loaded_as_the_schema_loads_it() -> None:
    body = hook_body("patient-view", prefetch=required_prefetch())
    body["hookInstance"] = "{" + UUID.upper() + "}"
    loaded = plain("back-pain-patient-view").load(body)
    assert loaded is not None and loaded["hookInstance"] == uuid.UUID(UUID)


@pytest.mark.parametrize("change,where", [
    ({"hookInstance": "nope"}, "hookInstance"), ({"hook": "order-sign"}, "hook"),
    ({"context": {"userId": "Practitioner/1"}}, "context.patientId"),
    ({"prefetch": {"patient": {"id": "x"}}}, "prefetch.patient"),
])
def test_bad_envelopes_still_answer_400_with_the_schemas_message(change: dict[str, Any],
                                                                 where: str) -> None:
    client = make_test_app().test_client()
    body = {**hook_body("patient-view", prefetch=required_prefetch()), **change}
    issue = operation_outcome(client.post("/cds-services/back-pain-patient-view", json=body),
                              400, "invalid")
    assert issue["diagnostics"] == schema_load(SERVICES["back-pain-patient-view"], body)[1]
    assert where in issue["diagnostics"]
