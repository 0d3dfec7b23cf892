"""The attack suite: every forged, misdirected, stale or replayed token gets the same 401.

Keys are minted for the test session (RSA 2048 and EC P-384); the app is the real one
(``create_app``) with a trusted-clients file and a migrated SQLite database. Each case
also checks *why* it was refused, through the ``backpain_cds_jwt_rejections_total``
metric, so a token refused for the wrong reason does not pass unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jwt.algorithms import get_default_algorithms

from tests.trust_support import (
    BASE,
    DISCOVERY,
    DROP,
    FEEDBACK,
    FHIR_BASE,
    ISS,
    OTHER_ISS,
    SERVICE,
    Signer,
    TrustedApp,
    assert_unauthorized,
    b64json,
    b64url,
    client_entry,
    default_claims,
    make_trusted_app,
    rejections,
    unsigned_token,
)

LEEWAY = 60


@pytest.fixture(scope="module")
def rsa_key() -> Signer:
    return Signer.rsa("RS384", "ehr-rsa-2026")


@pytest.fixture(scope="module")
def ec_key() -> Signer:
    return Signer.ec("ES384", "ehr-ec-2026")


@pytest.fixture(scope="module")
def other_key() -> Signer:
    """The key of another trusted client."""
    return Signer.ec("ES384", "other-ec")


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory, rsa_key: Signer, ec_key: Signer,
            other_key: Signer) -> Iterator[TrustedApp]:
    tmp: Path = tmp_path_factory.mktemp("trust")
    app = make_trusted_app(
        tmp,
        [client_entry(rsa_key, ec_key), client_entry(other_key, iss=OTHER_ISS)],
        f"sqlite:///{tmp / 'trust.sqlite3'}",
        jwt_leeway_seconds=LEEWAY,
    )
    yield app
    app.dispose()


def expect_rejected(trusted: TrustedApp, path: str, token: str | None, reason: str,
                    **call: Any) -> None:
    before = rejections(reason)
    response = trusted.call(path, token, **call)
    assert_unauthorized(response)
    assert rejections(reason) == before + 1, f"not rejected as {reason}"
    seen = trusted.seen[-1]
    assert (seen.client_iss, seen.client, seen.allowed_fhir_bases) == (None, None, ())


def expect_accepted(trusted: TrustedApp, path: str, token: str, iss: str = ISS,
                    **call: Any) -> None:
    response = trusted.call(path, token, **call)
    assert response.status_code != 401
    seen = trusted.seen[-1]
    assert seen.path == path
    assert seen.client_iss == iss
    assert seen.client is not None and seen.client.iss == iss
    assert isinstance(seen.allowed_fhir_bases, tuple)
    if path == DISCOVERY and _route_exists(trusted, DISCOVERY):
        assert response.status_code == 200


def _route_exists(trusted: TrustedApp, path: str) -> bool:
    adapter = trusted.app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except Exception:
        return False
    return True


# --- good tokens --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [DISCOVERY, SERVICE, FEEDBACK])
@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
def test_rs384_and_es384_tokens_are_accepted(trusted: TrustedApp, request: pytest.FixtureRequest,
                                             key_name: str, path: str) -> None:
    key: Signer = request.getfixturevalue(key_name)
    expect_accepted(trusted, path, key.token(path))
    assert trusted.seen[-1].allowed_fhir_bases == (FHIR_BASE,)


def test_aud_may_be_a_list_holding_the_url(trusted: TrustedApp, rsa_key: Signer) -> None:
    token = rsa_key.token(SERVICE, aud=["https://elsewhere.example/x", BASE + SERVICE])
    expect_accepted(trusted, SERVICE, token)


def test_typ_is_required(trusted: TrustedApp, ec_key: Signer) -> None:
    """CDS Hooks 2.0.1: the header's typ is required, fixed value JWT."""
    expect_rejected(trusted, DISCOVERY, ec_key.token(header={"typ": DROP}), "typ-invalid")


def test_each_client_is_known_by_its_own_keys(trusted: TrustedApp, other_key: Signer) -> None:
    expect_accepted(trusted, DISCOVERY, other_key.token(iss=OTHER_ISS), iss=OTHER_ISS)


def test_clock_skew_within_leeway_is_tolerated(trusted: TrustedApp, rsa_key: Signer) -> None:
    now = int(time.time())
    token = rsa_key.token(DISCOVERY, iat=now + LEEWAY // 2, nbf=now + LEEWAY // 2,
                          exp=now - LEEWAY // 2)
    expect_accepted(trusted, DISCOVERY, token)


def test_paths_outside_cds_services_need_no_token(trusted: TrustedApp) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        response = trusted.call(path, None, method="GET")
        assert response.status_code != 401, path


def test_cors_preflight_needs_no_token(trusted: TrustedApp) -> None:
    response = trusted.call(SERVICE, None, method="OPTIONS", headers={
        "Origin": "https://sandbox.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code != 401
    # production (trusted clients, CORS_ORIGINS not set): no browser origin is allowed
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_named_in_production_are_allowed(tmp_path: Path, rsa_key: Signer,
                                                      ec_key: Signer) -> None:
    app = make_trusted_app(tmp_path, [client_entry(rsa_key, ec_key)],
                           f"sqlite:///{tmp_path / 'cors.sqlite3'}",
                           cors_origins=("https://ehr.example",))
    response = app.call(SERVICE, None, method="OPTIONS", headers={
        "Origin": "https://ehr.example", "Access-Control-Request-Method": "POST"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://ehr.example"


# --- the header and the bearer ------------------------------------------------------------

def test_missing_authorization(trusted: TrustedApp) -> None:
    expect_rejected(trusted, DISCOVERY, None, "missing-token")


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  a b", "Token x"])
def test_malformed_authorization_header(trusted: TrustedApp, value: str) -> None:
    expect_rejected(trusted, DISCOVERY, None, "malformed-header",
                    headers={"Authorization": value})


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b", "a.b.c.d", "!!.??.**"])
def test_malformed_token(trusted: TrustedApp, token: str) -> None:
    expect_rejected(trusted, DISCOVERY, token, "malformed-token")


def test_oversized_token(trusted: TrustedApp, rsa_key: Signer) -> None:
    token = rsa_key.token(DISCOVERY, padding="x" * 20000)
    expect_rejected(trusted, DISCOVERY, token, "token-too-large")


# --- algorithm attacks --------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_is_refused(trusted: TrustedApp, rsa_key: Signer, alg: str) -> None:
    header = {"alg": alg, "typ": "JWT", "kid": rsa_key.kid}
    payload = default_claims(BASE + DISCOVERY) | {"iss": ISS}
    expect_rejected(trusted, DISCOVERY, unsigned_token(header, payload), "alg-not-allowed")
    expect_rejected(trusted, DISCOVERY, unsigned_token(header, payload, b"sig"),
                    "alg-not-allowed")


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_signed_with_the_public_key_is_refused(trusted: TrustedApp, rsa_key: Signer,
                                                    alg: str) -> None:
    """The classic key-confusion forgery: the public PEM used as the HMAC secret."""
    header = {"alg": alg, "typ": "JWT", "kid": rsa_key.kid}
    payload = default_claims(BASE + DISCOVERY)
    signing_input = f"{b64json(header)}.{b64json(payload)}".encode()
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    for secret in (rsa_key.public_pem(), json.dumps(rsa_key.public_jwk()).encode()):
        signature = hmac.new(secret, signing_input, digest).digest()
        expect_rejected(trusted, DISCOVERY, unsigned_token(header, payload, signature),
                        "alg-not-allowed")


def test_ec_alg_with_an_rsa_kid_is_refused(trusted: TrustedApp, rsa_key: Signer) -> None:
    forger = Signer.ec("ES384", rsa_key.kid)
    expect_rejected(trusted, DISCOVERY, forger.token(), "key-alg-mismatch")


def test_es256_with_the_p384_kid_is_refused(trusted: TrustedApp, ec_key: Signer) -> None:
    forger = Signer.ec("ES256", ec_key.kid)
    expect_rejected(trusted, DISCOVERY, forger.token(), "key-alg-mismatch")


def test_crit_header_is_refused(trusted: TrustedApp, rsa_key: Signer) -> None:
    token = rsa_key.token(header={"crit": ["exp"]})
    expect_rejected(trusted, DISCOVERY, token, "crit-unsupported")


@pytest.mark.parametrize("typ", ["at+jwt", "JOSE", "JWS", 1])
def test_typ_other_than_jwt_is_refused(trusted: TrustedApp, rsa_key: Signer, typ: object) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.token(header={"typ": typ}), "typ-invalid")


# --- kid and key --------------------------------------------------------------------------

def test_missing_kid(trusted: TrustedApp, rsa_key: Signer) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.token(header={"kid": DROP}), "kid-missing")


def test_unknown_kid(trusted: TrustedApp, rsa_key: Signer) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.with_kid("who-knows").token(), "kid-unknown")


def test_another_clients_key_cannot_sign_for_this_client(trusted: TrustedApp,
                                                         other_key: Signer) -> None:
    expect_rejected(trusted, DISCOVERY, other_key.token(iss=ISS), "kid-unknown")


def test_attacker_key_under_a_known_kid(trusted: TrustedApp, rsa_key: Signer) -> None:
    attacker = Signer.rsa("RS384", rsa_key.kid)
    expect_rejected(trusted, DISCOVERY, attacker.token(), "bad-signature")


def test_tampered_payload(trusted: TrustedApp, rsa_key: Signer) -> None:
    header, payload, signature = rsa_key.token(SERVICE).split(".")
    claims = json.loads(_b64decode(payload))
    claims["aud"] = BASE + DISCOVERY  # re-target a service token to discovery
    forged = f"{header}.{b64json(claims)}.{signature}"
    expect_rejected(trusted, DISCOVERY, forged, "bad-signature")


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
def test_tampered_signature(trusted: TrustedApp, request: pytest.FixtureRequest,
                            key_name: str) -> None:
    key: Signer = request.getfixturevalue(key_name)
    header, payload, signature = key.token().split(".")
    raw = bytearray(_b64decode(signature))
    raw[len(raw) // 2] ^= 0x01
    expect_rejected(trusted, DISCOVERY, f"{header}.{payload}.{b64url(bytes(raw))}",
                    "bad-signature")


def test_duplicate_claims_are_refused_even_when_signed(trusted: TrustedApp,
                                                       rsa_key: Signer) -> None:
    """A JSON parser differential: two ``aud`` members, validly signed."""
    claims = default_claims(BASE + DISCOVERY)
    body = json.dumps(claims)[:-1] + f', "aud": "{BASE + SERVICE}"}}'
    header = b64json({"alg": "RS384", "typ": "JWT", "kid": rsa_key.kid})
    signing_input = f"{header}.{b64url(body.encode())}"
    algorithm = get_default_algorithms()["RS384"]
    signature = algorithm.sign(signing_input.encode(), rsa_key.private_key)
    token = f"{signing_input}.{b64url(signature)}"
    expect_rejected(trusted, SERVICE, token, "malformed-token")


# --- issuer and jku -----------------------------------------------------------------------

def test_unknown_issuer(trusted: TrustedApp, rsa_key: Signer) -> None:
    token = rsa_key.token(iss="https://stranger.example.org")
    expect_rejected(trusted, DISCOVERY, token, "iss-untrusted")


def test_missing_issuer(trusted: TrustedApp, rsa_key: Signer) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.token(iss=DROP), "iss-missing")


def test_jku_off_the_allowlist_is_never_fetched(trusted: TrustedApp, httpserver: Any) -> None:
    attacker = Signer.rsa("RS384", "attacker-kid")
    httpserver.expect_request("/jwks.json").respond_with_json(attacker.jwks())
    token = attacker.token(header={"jku": httpserver.url_for("/jwks.json")})
    expect_rejected(trusted, DISCOVERY, token, "jku-not-allowed")
    assert httpserver.log == []


# --- audience -----------------------------------------------------------------------------

@pytest.mark.parametrize(("minted_for", "called"), [
    (DISCOVERY, SERVICE),
    (SERVICE, DISCOVERY),
    (SERVICE, FEEDBACK),
    (FEEDBACK, SERVICE),
    ("/cds-services/back-pain-order-sign", SERVICE),
])
def test_token_for_one_endpoint_is_refused_on_another(trusted: TrustedApp, ec_key: Signer,
                                                      minted_for: str, called: str) -> None:
    expect_rejected(trusted, called, ec_key.token(minted_for), "aud-mismatch")


@pytest.mark.parametrize("aud", [
    "https://other-cds.example.org/backpain/cds-services",
    "http://cds.example.org/backpain/cds-services",
    "https://cds.example.org/cds-services",
    "https://cds.example.org/backpain/cds-services/",
    ["https://other-cds.example.org/backpain/cds-services"],
    [],
    42,
    DROP,
])
def test_wrong_audience(trusted: TrustedApp, rsa_key: Signer, aud: Any) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.token(aud=aud), "aud-mismatch")


# --- time ---------------------------------------------------------------------------------

def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(("claims", "reason"), [
    (lambda now: {"exp": now - LEEWAY - 5, "iat": now - 600}, "expired"),
    (lambda now: {"nbf": now + LEEWAY + 300}, "nbf-future"),
    (lambda now: {"iat": now + LEEWAY + 300, "exp": now + 900}, "iat-future"),
    (lambda now: {"exp": DROP}, "exp-missing"),
    (lambda now: {"iat": DROP}, "iat-missing"),
    (lambda now: {"exp": str(now + 300)}, "claims-invalid"),
    (lambda now: {"exp": True}, "claims-invalid"),
    (lambda now: {"exp": 10**400}, "claims-invalid"),
])
def test_time_claims(trusted: TrustedApp, rsa_key: Signer,
                     claims: Callable[[int], dict[str, Any]], reason: str) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.token(**claims(_now())), reason)


# --- jti ----------------------------------------------------------------------------------

@pytest.mark.parametrize("jti", [DROP, "", 7])
def test_missing_or_empty_jti(trusted: TrustedApp, rsa_key: Signer, jti: Any) -> None:
    expect_rejected(trusted, DISCOVERY, rsa_key.token(jti=jti), "jti-missing")


def test_replayed_jti_is_refused(trusted: TrustedApp, ec_key: Signer) -> None:
    token = ec_key.token(SERVICE)
    expect_accepted(trusted, SERVICE, token)
    expect_rejected(trusted, SERVICE, token, "replay")


def test_same_jti_in_a_new_token_is_a_replay(trusted: TrustedApp, rsa_key: Signer) -> None:
    expect_accepted(trusted, DISCOVERY, rsa_key.token(jti="fixed-jti-1"))
    expect_rejected(trusted, DISCOVERY, rsa_key.token(jti="fixed-jti-1"), "replay")


def test_jti_is_unique_per_issuer(trusted: TrustedApp, rsa_key: Signer,
                                  other_key: Signer) -> None:
    """One client cannot burn another client's jti values."""
    expect_accepted(trusted, DISCOVERY, rsa_key.token(jti="shared-jti"))
    expect_accepted(trusted, DISCOVERY, other_key.token(iss=OTHER_ISS, jti="shared-jti"),
                    iss=OTHER_ISS)


def test_a_refused_token_does_not_burn_its_jti(trusted: TrustedApp, rsa_key: Signer) -> None:
    expect_rejected(trusted, SERVICE, rsa_key.token(DISCOVERY, jti="kept-jti"), "aud-mismatch")
    expect_accepted(trusted, DISCOVERY, rsa_key.token(DISCOVERY, jti="kept-jti"))


def test_rejection_is_logged_with_reason_but_no_token(trusted: TrustedApp, rsa_key: Signer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    token = rsa_key.token(SERVICE)
    caplog.set_level("DEBUG", logger="service.trust")
    expect_rejected(trusted, DISCOVERY, token, "aud-mismatch")
    lines = [r.getMessage() for r in caplog.records if r.name == "service.trust"]
    assert any("reason=aud-mismatch" in line for line in lines)
    assert not any(token in line or token.split(".")[1] in line for line in lines)


def _b64decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


# --- tenants ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tenant_app(tmp_path_factory: pytest.TempPathFactory,
               rsa_key: Signer) -> Iterator[TrustedApp]:
    tmp: Path = tmp_path_factory.mktemp("tenants")
    app = make_trusted_app(tmp, [client_entry(rsa_key, tenants=["org-a", "org-b"])],
                           f"sqlite:///{tmp / 'tenants.sqlite3'}")
    yield app
    app.dispose()


@pytest.mark.parametrize("tenant", [DROP, "org-c", "", ["org-a"]])
def test_tenant_must_be_one_the_client_lists(tenant_app: TrustedApp, rsa_key: Signer,
                                             tenant: Any) -> None:
    expect_rejected(tenant_app, DISCOVERY, rsa_key.token(tenant=tenant), "tenant-mismatch")


def test_listed_tenant_is_accepted(tenant_app: TrustedApp, rsa_key: Signer) -> None:
    expect_accepted(tenant_app, SERVICE, rsa_key.token(SERVICE, tenant="org-b"))


# --- robustness: hostile values never become a 500 ----------------------------------------

def test_malformed_url_in_aud_is_a_mismatch(trusted: TrustedApp, rsa_key: Signer) -> None:
    token = rsa_key.token(aud=["https://[::1", "http://x:notaport/cds-services"])
    expect_rejected(trusted, DISCOVERY, token, "aud-mismatch")


def test_hostile_host_header_is_a_401_not_a_500(tmp_path: Path, rsa_key: Signer) -> None:
    app = make_trusted_app(tmp_path, [client_entry(rsa_key)],
                           f"sqlite:///{tmp_path / 'host.sqlite3'}", public_base_url="")
    try:
        response = app.call(DISCOVERY, rsa_key.token(), headers={"Host": "[::1"})
        assert response.status_code in {400, 401}
    finally:
        app.dispose()


def test_an_unexpected_error_fails_closed(trusted: TrustedApp, rsa_key: Signer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(trusted.trust.verifier, "verify", broken)
    expect_rejected(trusted, DISCOVERY, rsa_key.token(), "verify-error")
