"""Tracing off (the default): a hook call's spans are one shared null context, looked up
without the app (an app with a tracer is tested in tests/integration/test_tracing.py,
which instruments the process)."""

from __future__ import annotations

import pytest

import fhir_samples
from service import tracing
from tests.helpers import make_test_app

SCENARIO = fhir_samples.load("cc-acute-lbp-snomed")


def test_without_a_traced_app_every_span_is_the_shared_null_context(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # no app of this process traces (an integration test run before in it may have)
    monkeypatch.setattr(tracing, "_any_app_traces", False)
    app = make_test_app(clock=lambda: SCENARIO.now)
    with app.test_request_context("/"):
        first, second = tracing.span("parse"), tracing.span("record")
        assert first is second
        with first as entered:
            assert entered is None
    assert tracing.span("outside a request") is first
    answer = app.test_client().post(f"/cds-services/back-pain-{SCENARIO.hook}",
                                    json=SCENARIO.request_body())
    assert answer.status_code == 200 and answer.get_json()["cards"]
