"""Fuzzing from our own OpenAPI document (schemathesis): no generated request, valid or
not, gets a 500; every answer has a documented status, content type and body shape. Then
hypothesis wraps arbitrary resources in valid calls, so the 200 path (core included) is
fuzzed too, not only validation.

The number of examples is bounded so the whole module runs in well under a minute.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.schemas import validate_response
from tests.helpers import SERVICE_OF_HOOK, hook_body, make_test_app

app = make_test_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
_client = app.test_client()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_generated_request_breaks_the_api(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


# --- valid envelopes around arbitrary resources: the 200 path, not only the 400s

_json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                    allow_infinity=False) \
    | st.text(max_size=12)
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
_resource_types = st.sampled_from(["Patient", "Condition", "Observation", "MedicationRequest",
                                   "ServiceRequest", "Procedure", "ImagingStudy", "Bundle",
                                   "OperationOutcome", "Encounter"])
_fields = st.sampled_from(["subject", "patient", "code", "clinicalStatus", "onsetDateTime",
                           "effectiveDateTime", "valueQuantity", "birthDate", "status", "id",
                           "entry", "link", "verificationStatus", "onsetPeriod"])
_resource = st.builds(lambda rtype, extra: {"resourceType": rtype, **extra},
                      _resource_types, st.dictionaries(_fields, _json, max_size=5))
_prefetch_value = st.none() | _resource | st.builds(
    lambda entries: {"resourceType": "Bundle", "type": "searchset",
                     "entry": [{"resource": r} for r in entries]},
    st.lists(_resource, max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hook=st.sampled_from(sorted(SERVICE_OF_HOOK)),
       prefetch=st.fixed_dictionaries({"patient": _prefetch_value,
                                       "conditions": _prefetch_value},
                                      optional={"observations": _prefetch_value,
                                                "serviceRequests": _prefetch_value}))
def test_arbitrary_resources_in_a_valid_call_never_break_it(hook: str,
                                                            prefetch: dict[str, Any]) -> None:
    response = _client.post(f"/cds-services/{SERVICE_OF_HOOK[hook]}",
                            json=hook_body(hook, prefetch=prefetch))
    assert response.status_code in (200, 412), response.get_json()
    if response.status_code == 200:
        assert validate_response(response.get_json()) == []
