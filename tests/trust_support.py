"""Keys, tokens and apps for the trust tests. Every key is minted here, at test time.

``Signer`` holds a freshly generated private key (RSA 2048 or EC P-256/384/521) and
mints CDS-client JWTs with it; ``TrustedApp`` is a real app (``create_app``) configured
with a trusted-clients file and a migrated database, plus a recorder of what the trust
layer put in ``flask.g``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, g
from flask.testing import FlaskClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from prometheus_client import REGISTRY
from werkzeug.test import TestResponse

from service.app import create_app
from service.config import Settings
from service.migrations import upgrade
from service.store import Store
from tests import log_guard

BASE = "https://cds.example.org/backpain"
ISS = "https://ehr.example.org"
OTHER_ISS = "https://other-ehr.example.org"
FHIR_BASE = "https://ehr.example.org/fhir/r4"
HASH_KEY = "trust-tests-patient-hash-key-0123456789"
DISCOVERY = "/cds-services"
SERVICE = "/cds-services/back-pain-patient-view"
FEEDBACK = "/cds-services/back-pain-patient-view/feedback"
_DROP = object()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class Signer:
    """A CDS client's signing key; mints tokens as the client would."""

    alg: str
    kid: str
    private_key: Any

    @classmethod
    def rsa(cls, alg: str = "RS384", kid: str = "rsa-1") -> Signer:
        return cls(alg, kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, alg: str = "ES384", kid: str = "ec-1") -> Signer:
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
        return cls(alg, kid, ec.generate_private_key(curve))

    def with_kid(self, kid: str) -> Signer:
        return Signer(self.alg, kid, self.private_key)

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        algorithm = RSAAlgorithm if isinstance(public, rsa.RSAPublicKey) else ECAlgorithm
        jwk = algorithm.to_jwk(public, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return jwk

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(self, path: str = DISCOVERY, *, base: str = BASE,
              header: dict[str, Any] | None = None, **claims: Any) -> str:
        """A signed JWT for ``base + path``; a claim given as ``DROP`` is left out."""
        payload = default_claims(base + path)
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not _DROP}
        headers: dict[str, Any] = {"kid": self.kid, "typ": "JWT"}
        headers.update(header or {})
        headers = {k: v for k, v in headers.items() if v is not _DROP}
        if "typ" not in headers:
            headers["typ"] = None  # PyJWT adds typ JWT unless told None
        token = jwt.encode(payload, self.private_key, algorithm=self.alg, headers=headers)
        segment = token.split(".")[0]
        sent = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        for name in ("kid", "typ"):  # make sure a dropped header is really gone
            assert name in sent or headers.get(name) is None, name
        return log_guard.register_secret(token)


DROP: Any = _DROP


def default_claims(aud: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand (for forgeries PyJWT refuses to make)."""
    return log_guard.register_secret(f"{b64json(header)}.{b64json(payload)}.{b64url(signature)}")


def client_entry(*signers: Signer, iss: str = ISS, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "iss": iss,
        "jwks": {"keys": [s.public_jwk() for s in signers]},
        "fhir_base_urls": [FHIR_BASE],
    }
    if not signers:
        del entry["jwks"]
    entry.update(extra)
    return entry


def rejections(reason: str) -> float:
    value = REGISTRY.get_sample_value("backpain_cds_jwt_rejections_total", {"reason": reason})
    return value or 0.0


def hook_body(access_token: str | None = None, fhir_server: str = FHIR_BASE) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": "trust-test-patient"},
        "prefetch": {"patient": {"resourceType": "Patient", "id": "trust-test-patient",
                                 "gender": "female", "birthDate": "1970-01-01"}},
    }
    if access_token is not None:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = {
            "access_token": log_guard.register_secret(access_token),
            "token_type": "Bearer", "expires_in": 300, "scope": "user/*.read",
            "subject": "backpain-cds",
        }
    return body


def feedback_body() -> dict[str, Any]:
    return {"feedback": [{
        "card": str(uuid.uuid4()), "outcome": "overridden",
        "overrideReason": {"userComment": "not relevant"},
        "outcomeTimestamp": "2026-03-02T09:00:00Z",
    }]}


@dataclass
class Seen:
    """What the trust layer left in ``flask.g`` for one request."""

    path: str
    status: int
    client_iss: str | None
    allowed_fhir_bases: tuple[str, ...] | None
    client: Any


@dataclass
class TrustedApp:
    app: Flask
    seen: list[Seen] = field(default_factory=list)

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    @property
    def trust(self) -> Any:
        return self.app.extensions["backpain"]["trust"]

    @property
    def store(self) -> Store:
        return self.app.extensions["backpain"]["store"]

    def dispose(self) -> None:
        """Close the app's database connections (every fixture's teardown)."""
        self.store.dispose()

    def call(self, path: str, token: str | None, *, method: str | None = None,
             json_body: Any = None, headers: dict[str, str] | None = None,
             remote_addr: str = "127.0.0.1") -> TestResponse:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if method is None:
            method = "GET" if path == DISCOVERY else "POST"
        if method == "POST" and json_body is None:
            json_body = feedback_body() if path.endswith("/feedback") else hook_body()
        return self.client.open(path, method=method, json=json_body, headers=sent,
                                environ_base={"REMOTE_ADDR": remote_addr})


def make_trusted_app(tmp_dir: Path, clients: list[dict[str, Any]], database_url: str,
                     *, clock: Callable[[], datetime] | None = None,
                     **settings: Any) -> TrustedApp:
    """A real app trusting ``clients``, on a migrated database; ``clock``: the clinical
    clock (token times are always checked against the wall clock)."""
    clients_file = tmp_dir / f"trusted-clients-{uuid.uuid4().hex[:8]}.json"
    clients_file.write_text(json.dumps(clients), encoding="utf-8")
    values: dict[str, Any] = {
        "trusted_clients_file": str(clients_file), "public_base_url": BASE,
        "database_url": database_url, "patient_hash_key": HASH_KEY,
        "allow_http_loopback": True,
    }
    values.update(settings)
    app = create_app(Settings().replace(**values), **({"clock": clock} if clock else {}))
    trusted = TrustedApp(app)
    upgrade(trusted.store.engine)

    @app.after_request
    def record(response: Any) -> Any:
        trusted.seen.append(Seen(
            path=_request_path(), status=response.status_code,
            client_iss=g.get("client_iss"), allowed_fhir_bases=g.get("allowed_fhir_bases"),
            client=g.get("cds_client"),
        ))
        return response

    return trusted


def _request_path() -> str:
    from flask import request

    return request.path


def assert_unauthorized(response: TestResponse) -> None:
    """The one opaque 401: same body whatever the reason."""
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json() == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "security", "diagnostics": "Unauthorized"}],
    }
