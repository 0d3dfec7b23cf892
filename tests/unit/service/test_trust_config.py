"""Secure defaults: no trusted clients, no start (unless explicitly unauthenticated); the
trusted-clients file is validated at start-up with messages naming client and field."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.config import ConfigError, Settings, load_settings
from service.trust.clients import load_trusted_clients
from tests.trust_support import (
    DISCOVERY,
    FHIR_BASE,
    HASH_KEY,
    ISS,
    Signer,
    client_entry,
)


@pytest.fixture(scope="module")
def key() -> Signer:
    return Signer.ec("ES384", "cfg-1")


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "clients.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def test_refuses_to_start_without_trusted_clients(tmp_path: Path) -> None:
    settings = Settings(patient_hash_key=HASH_KEY,
                        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ConfigError, match="no trusted clients configured; set "
                       "BACKPAIN_CDS_TRUSTED_CLIENTS_FILE or "
                       "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1 for local use"):
        create_app(settings)


def test_refuses_to_start_with_an_empty_clients_file(tmp_path: Path) -> None:
    settings = Settings(patient_hash_key=HASH_KEY, trusted_clients_file=str(write(tmp_path, [])),
                        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ConfigError, match="no trusted clients configured"):
        create_app(settings)


def test_refuses_to_start_from_the_environment_alone(tmp_path: Path) -> None:
    env = {"BACKPAIN_CDS_PATIENT_HASH_KEY": HASH_KEY,
           "BACKPAIN_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    with pytest.raises(ConfigError, match="no trusted clients configured"):
        create_app(load_settings(env))


def test_allow_unauthenticated_warns_and_skips_checks(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    app = create_app(Settings(allow_unauthenticated=True,
                              database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "service.trust" and r.levelno == logging.WARNING]
    assert any("ALLOW_UNAUTHENTICATED=1" in w and "WITHOUT" in w for w in warnings)
    seen: list[Any] = []

    @app.after_request
    def record(response: Any) -> Any:
        from flask import g

        seen.append((g.get("client_iss", "unset"), g.get("allowed_fhir_bases", "unset")))
        return response

    response = app.test_client().get(DISCOVERY)
    assert response.status_code != 401
    assert seen == [(None, ())]


def test_clients_file_is_loaded(tmp_path: Path, key: Signer) -> None:
    entry = client_entry(key, name="Main EHR", tenants=["org-1"],
                         fhir_base_urls=[FHIR_BASE + "/"])
    (client,) = load_trusted_clients(write(tmp_path, [entry]))
    assert client.iss == ISS and client.label == "Main EHR"
    assert set(client.jwks) == {"cfg-1"}
    assert client.tenants == ("org-1",)
    assert client.fhir_base_urls == (FHIR_BASE,)
    assert client.jku is None and client.jku_allowlist == ()


def test_configured_jku_is_on_the_allowlist_by_default(tmp_path: Path) -> None:
    url = "https://ehr.example.org/jwks.json"
    (client,) = load_trusted_clients(write(tmp_path, {"clients": [client_entry(jku=url)]}))
    assert client.jku == url and client.jku_allowlist == (url,)


def _private_jwk(key: Signer) -> dict[str, Any]:
    from jwt.algorithms import ECAlgorithm

    jwk = ECAlgorithm.to_jwk(key.private_key, as_dict=True)
    jwk["kid"] = "leaked"
    return jwk


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda e, k: "{not json", "not valid JSON"),
    (lambda e, k: {"iss": ISS}, "must hold a JSON list"),
    (lambda e, k: [e, e], "listed twice"),
    (lambda e, k: [{**e, "iss": ""}], "'iss' is required"),
    (lambda e, k: [{**e, "jwsk": {}}], "unknown field 'jwsk'"),
    (lambda e, k: [{k2: v for k2, v in e.items() if k2 != "jwks"}], "give its public keys"),
    (lambda e, k: [{k2: v for k2, v in e.items() if k2 != "fhir_base_urls"}],
     "'fhir_base_urls' is required"),
    (lambda e, k: [{**e, "fhir_base_urls": ["ftp://x"]}], "not an absolute http"),
    (lambda e, k: [{**e, "jwks": {"keys": [_private_jwk(k)]}}], "private key material"),
    (lambda e, k: [{**e, "jwks": {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}}],
     "symmetric"),
    (lambda e, k: [{**e, "jwks": {"keys": [k.public_jwk(), k.public_jwk()]}}], "used twice"),
    (lambda e, k: [{**e, "jwks": {"keys": [{**k.public_jwk(), "alg": "HS256"}]}}],
     "not an accepted asymmetric"),
    (lambda e, k: [{**e, "jwks": {"keys": [{**k.public_jwk(), "alg": "RS256"}]}}],
     "does not fit"),
    (lambda e, k: [{**e, "jwks": {"keys": [{**k.public_jwk(), "kid": None}]}}], "'kid'"),
    (lambda e, k: [{**e, "jku": "http://ehr.example.org/jwks"}], "must be https"),
    (lambda e, k: [{**e, "jku": "https://a.example/jwks",
                    "jku_allowlist": ["https://b.example/jwks"]}], "must also be listed"),
    (lambda e, k: [{**e, "tenants": [""]}], "'tenants'"),
])
def test_bad_clients_file_stops_startup(tmp_path: Path, key: Signer, mutate: Any,
                                        message: str) -> None:
    path = write(tmp_path, mutate(client_entry(key), key))
    with pytest.raises(ConfigError, match="BACKPAIN_CDS_TRUSTED_CLIENTS_FILE") as caught:
        load_trusted_clients(path)
    assert message in str(caught.value)


def test_small_rsa_keys_are_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = Signer("RS256", "weak", rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(ConfigError, match="at least 2048"):
        load_trusted_clients(write(tmp_path, [client_entry(weak)]))


def test_missing_clients_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_trusted_clients(tmp_path / "nope.json")


def test_http_jku_only_on_loopback_and_only_when_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, [client_entry(jku="http://127.0.0.1:9/jwks.json")])
    with pytest.raises(ConfigError, match="must be https"):
        load_trusted_clients(path)
    (client,) = load_trusted_clients(path, allow_http_loopback=True)
    assert client.jku == "http://127.0.0.1:9/jwks.json"
    remote = write(tmp_path, [client_entry(jku="http://10.0.0.1/jwks.json")])
    with pytest.raises(ConfigError, match="must be https"):
        load_trusted_clients(remote, allow_http_loopback=True)
