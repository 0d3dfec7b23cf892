"""Realistic traffic at DEBUG on every logger: no JWT, access token or bearer value is logged.

The redaction safety net is switched OFF here, so what is checked is what the code itself
writes: good and bad tokens on discovery, hook calls and feedback, hook bodies carrying a
``fhirAuthorization`` access token (with the FHIR server a real local HTTP server, so the
FHIR client really sends it), and a JWKS fetched by URL. (Every other test in the suite
is watched too, at the levels its loggers run at, by the ``tests.log_guard`` plugin.)
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.trust import redact
from tests.log_guard import CapturingHandler, find_secrets, register_secret
from tests.trust_support import (
    DISCOVERY,
    FEEDBACK,
    SERVICE,
    Signer,
    TrustedApp,
    client_entry,
    hook_body,
    make_trusted_app,
    unsigned_token,
)


@pytest.fixture
def everything_at_debug() -> Iterator[CapturingHandler]:
    """DEBUG on the root and every existing logger; redaction off; all records captured."""
    was_installed = redact.installed()
    redact.uninstall()
    handler = CapturingHandler()
    root = logging.getLogger()
    saved = {name: logger.level for name, logger in logging.root.manager.loggerDict.items()
             if isinstance(logger, logging.Logger)}
    root_level = root.level
    root.setLevel(logging.DEBUG)
    for name in saved:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(root_level)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        if was_installed:
            redact.install()


@pytest.fixture
def fhir_server(httpserver: Any) -> str:
    """Any FHIR read or search answers an empty searchset (the token is what matters)."""
    httpserver.expect_request(re.compile(r"/fhir/.*")).respond_with_json(
        {"resourceType": "Bundle", "type": "searchset", "total": 0})
    return httpserver.url_for("/fhir")


def test_no_token_reaches_any_log(tmp_path: Path, httpserver: Any, fhir_server: str,
                                  everything_at_debug: CapturingHandler) -> None:
    key = Signer.ec("ES384", "logs-ec")
    rotated = Signer.rsa("RS384", "logs-rsa")
    httpserver.expect_request("/jwks.json").respond_with_json(rotated.jwks())
    jku = httpserver.url_for("/jwks.json")
    trusted: TrustedApp = make_trusted_app(
        tmp_path, [client_entry(key, jku=jku, fhir_base_urls=[fhir_server])],
        f"sqlite:///{tmp_path / 'logs.sqlite3'}",
    )
    access_tokens = [f"fhir-access-{uuid.uuid4().hex}" for _ in range(3)]
    used: list[str] = []

    def token(signer: Signer, path: str, **claims: Any) -> str:
        used.append(signer.token(path, **claims))
        return used[-1]

    try:
        # good calls: discovery, hook calls that fetch with the access token, feedback
        assert trusted.call(DISCOVERY, token(key, DISCOVERY)).status_code != 401
        for access_token in access_tokens[:2]:
            body = hook_body(access_token, fhir_server=fhir_server)
            del body["prefetch"]  # nothing prefetched: the FHIR client must fetch
            assert trusted.call(SERVICE, token(key, SERVICE), json_body=body).status_code != 401
        assert trusted.call(FEEDBACK, token(rotated, FEEDBACK)).status_code != 401  # via jku
        # a FHIR server that is not allowed for this client
        body = hook_body(access_tokens[2], fhir_server="https://evil.example/fhir")
        del body["prefetch"]
        trusted.call(SERVICE, token(key, SERVICE), json_body=body)

        # bad calls
        replayed = token(key, SERVICE)
        trusted.call(SERVICE, replayed)
        trusted.call(SERVICE, replayed)  # replay
        trusted.call(DISCOVERY, token(key, SERVICE))  # wrong aud
        trusted.call(DISCOVERY, token(Signer.ec("ES384", "logs-ec"), DISCOVERY))  # bad signature
        trusted.call(DISCOVERY, token(key, DISCOVERY, iss="https://stranger.example"))
        none_token = unsigned_token({"alg": "none", "kid": "logs-ec"}, {"iss": "x"})
        used.append(none_token)
        trusted.call(DISCOVERY, none_token)
        trusted.call(DISCOVERY, None, headers={"Authorization": "Basic " + register_secret(
            "dXNlcjpwYXNzd29yZA==")})
        trusted.call(DISCOVERY, "garbage-" + register_secret(uuid.uuid4().hex))
        trusted.call(SERVICE, token(key, SERVICE), json_body={"hook": "patient-view",
                     "fhirAuthorization": {"access_token": access_tokens[0]}})  # malformed
    finally:
        trusted.app.extensions["backpain"]["store"].dispose()

    lines = everything_at_debug.lines
    text = "\n".join(line for _, line in lines)
    # the traffic was really logged (the check below is not vacuous)
    assert "JWT rejected: reason=replay" in text
    assert "JWT rejected: reason=aud-mismatch" in text
    assert "JWT rejected: reason=bad-signature" in text
    assert "JWKS fetched from" in text
    assert any(name.startswith("service.trust") and "authenticated" in line
               for name, line in lines)
    for secret in used + access_tokens:
        assert secret not in text
        for segment in secret.split("."):
            assert len(segment) < 16 or segment not in text
    assert find_secrets(text) == []
