"""Fuzzing from our own OpenAPI document (schemathesis): no generated request, valid or
not, gets a 500; every answer has a documented status, content type and body shape.

The number of examples is bounded so the whole module runs in well under a minute.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import make_test_app

app = make_test_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_generated_request_breaks_the_api(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
