"""service.cors: the answer to a call without an Origin header, worked out once, is what
flask-cors gives; every other call is still flask-cors' own.

Each request goes to two real apps built alike: the service as it runs, and the same
service with flask-cors' own after-request function put back in place of the shortcut.
Their answers must carry the same headers in the same order.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.helpers import hook_body, make_test_app, required_prefetch

SERVICE = "/cds-services/back-pain-patient-view"
VOLATILE = {"x-request-id", "server-timing", "date"}
CORS_CONFIGS: list[dict[str, Any]] = [
    {},  # unauthenticated, no CORS_ORIGINS: every origin ("*")
    {"cors_origins": ("https://b.example", "https://a.example")},
    {"cors_origins": ("https://only.example",)},
    {"cors_origins": ("https://only.example",), "max_body_bytes": 2048},
]
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def _shortcut(app: Flask) -> Any:
    return next(f for f in app.after_request_funcs[None]
                if f.__name__ == "cors_after_request_fast")


def _pair(config: dict[str, Any]) -> tuple[Flask, Flask]:
    fast = make_test_app(**config)
    reference = make_test_app(**config)
    funcs = reference.after_request_funcs[None]
    index = funcs.index(_shortcut(reference))
    funcs[index] = funcs[index].__wrapped__  # flask-cors' own function, as before
    return fast, reference


def _requests() -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    good = hook_body("patient-view", prefetch=required_prefetch())
    padded = {**good, "padding": "x" * 4096}
    calls: list[tuple[str, str, dict[str, str], dict[str, Any]]] = []
    for origin in ({}, {"Origin": "https://a.example"}, {"Origin": "https://only.example"},
                   {"Origin": "https://evil.example"}, {"Origin": ""}):
        calls += [
            ("GET", "/cds-services", origin, {}),
            ("POST", SERVICE, origin, {"json": good}),
            ("POST", SERVICE, origin, {"json": {"hook": "patient-view"}}),  # 400
            ("POST", SERVICE, origin, {"data": b"{", "content_type": "application/json"}),
            ("POST", SERVICE, origin, {"data": "a=b",
                                       "content_type": "application/x-www-form-urlencoded"}),
            ("POST", SERVICE, origin, {"json": padded}),  # 413 where the limit is 2048
            ("POST", "/cds-services/no-such-service", origin, {"json": good}),
            ("PUT", SERVICE, origin, {}),
            ("GET", "/nothing/here", origin, {}),
            ("GET", "/healthz", origin, {}),
            ("GET", "/rules", origin, {}),
            ("OPTIONS", SERVICE, {**origin, **PREFLIGHT}, {}),
            ("OPTIONS", SERVICE, origin, {}),
            ("GET", "/cds-services",
             {**origin, "Access-Control-Request-Private-Network": "true"}, {}),
        ]
    return calls


def _headers(response: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.items() if k.lower() not in VOLATILE]


@pytest.mark.parametrize("config", CORS_CONFIGS, ids=["wildcard", "two", "one", "small-body"])
def test_every_answer_carries_the_headers_flask_cors_gives(config: dict[str, Any]) -> None:
    fast, reference = _pair(config)
    fast_client, reference_client = fast.test_client(), reference.test_client()
    statuses = set()
    for method, path, headers, kwargs in _requests():
        got = fast_client.open(path, method=method, headers=headers, **kwargs)
        want = reference_client.open(path, method=method, headers=headers, **kwargs)
        statuses.add(got.status_code)
        assert got.status_code == want.status_code, (method, path, headers)
        assert _headers(got) == _headers(want), (method, path, headers)
    assert {200, 400, 404, 405, 415} <= statuses
    if config.get("max_body_bytes"):
        assert 413 in statuses


def test_an_origin_less_call_gets_the_configured_origin() -> None:
    for config, allowed in ((CORS_CONFIGS[0], "*"), (CORS_CONFIGS[2], "https://only.example")):
        response = make_test_app(**config).test_client().get("/cds-services")
        assert response.headers.getlist("Access-Control-Allow-Origin") == [allowed]

