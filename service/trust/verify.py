"""Verification of the CDS client's JWT (CDS Hooks 2.0.1, "Trusting CDS Clients").

:meth:`TokenVerifier.verify` either returns a :class:`VerifiedToken` or raises
:class:`Rejected` with a short, fixed ``reason`` (a metric label, safe to log). Reasons
never contain the token or claim values.

Checks, in order: size and shape; header ``alg`` asymmetric only (``none`` and HS* are
refused before any key is touched, so a public key can never serve as an HMAC secret),
``typ`` JWT (required: CDS Hooks 2.0.1 fixes it; the RFC 7515 media-type spellings
``jwt`` / ``application/jwt`` are the same type), no ``crit``, ``kid`` required; ``iss``
a trusted client; ``jku`` on that client's allowlist; the key found (inline, or fetched
from the JWKS URL) and of the right type and curve for ``alg``; the signature; ``aud``
the exact external URL called; ``exp`` and ``iat`` required, ``nbf`` honoured, with
leeway; ``tenant`` when the client lists tenants; ``jti`` required; and last, only for an
otherwise valid token, the ``jti`` claimed once in the shared replay store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
from jwt.algorithms import get_default_algorithms

from .clients import TrustedClient
from .external_url import normalize_url
from .jwks import ALLOWED_ALGORITHMS, JwksCache, JwksUnavailable, PublicJwk

if TYPE_CHECKING:
    from jwt.types import Options

MAX_TOKEN_BYTES = 16 * 1024
MAX_JTI_LENGTH = 512
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_ALGORITHMS = get_default_algorithms()
# PyJWT checks the time claims only (exp required and not past, iat required and not in
# the future, nbf honoured); the signature is checked above, aud/iss/jti by us.
_TIME_CLAIMS: Options = {
    "verify_signature": False, "verify_exp": True, "verify_iat": True, "verify_nbf": True,
    "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False,
    "require": ["exp", "iat"],
}

#: every reason :class:`Rejected` can carry (the ``reason`` label of JWT_REJECTIONS)
REASONS = frozenset({
    "missing-token", "malformed-header", "token-too-large", "malformed-token",
    "alg-not-allowed", "typ-invalid", "crit-unsupported", "kid-missing", "iss-missing",
    "iss-untrusted", "jku-not-allowed", "jwks-unavailable", "kid-unknown",
    "key-alg-mismatch", "bad-signature", "aud-mismatch", "exp-missing", "expired",
    "iat-missing", "iat-future", "nbf-future", "claims-invalid", "tenant-mismatch",
    "jti-missing", "replay", "replay-store-unavailable", "verify-error",
})


class Rejected(Exception):
    """The token is not accepted; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, client: TrustedClient | None = None) -> None:
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason
        self.client = client


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    client: TrustedClient
    header: Mapping[str, Any]
    claims: Mapping[str, Any]


#: ``claim_jti(key, expires_at) -> bool``: True when ``key`` was not seen before
ClaimJti = Callable[[str, datetime], bool]


class TokenVerifier:
    """Verifies CDS client JWTs against the trusted clients."""

    def __init__(
        self,
        clients: Sequence[TrustedClient],
        jwks: JwksCache,
        *,
        leeway_seconds: float,
    ) -> None:
        self.clients = {client.iss: client for client in clients}
        self.jwks = jwks
        self.leeway = float(leeway_seconds)

    def verify(self, token: str, audience: str, claim_jti: ClaimJti | None) -> VerifiedToken:
        """Check everything; ``claim_jti`` None means the replay store is unavailable."""
        if len(token) > MAX_TOKEN_BYTES:
            raise Rejected("token-too-large")
        parts = token.split(".")
        if len(parts) != 3 or not all(_B64URL.match(p) for p in parts):
            raise Rejected("malformed-token")
        header = _json_segment(parts[0])
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise Rejected("alg-not-allowed")  # none, HS*, anything unknown
        payload = _json_segment(parts[1])
        try:
            signature = _b64decode(parts[2])
        except ValueError:
            raise Rejected("malformed-token") from None
        if not signature:
            raise Rejected("malformed-token")
        typ = header.get("typ")  # CDS Hooks 2.0.1: required, fixed "JWT"
        if not isinstance(typ, str) or typ.lower() not in {"jwt", "application/jwt"}:
            raise Rejected("typ-invalid")  # absent, or another type (e.g. at+jwt)
        if "crit" in header:
            raise Rejected("crit-unsupported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Rejected("kid-missing")

        iss = payload.get("iss")
        if not isinstance(iss, str) or not iss:
            raise Rejected("iss-missing")
        client = self.clients.get(iss)
        if client is None:
            raise Rejected("iss-untrusted")

        key = self._key(client, header, kid)
        if not key.accepts(alg):
            raise Rejected("key-alg-mismatch", client)
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        try:
            valid = _ALGORITHMS[alg].verify(signing_input, key.key, signature)
        except Exception:
            valid = False
        if not valid:
            raise Rejected("bad-signature", client)

        self._check_claims(client, token, payload, audience)
        jti = payload.get("jti")
        if not isinstance(jti, str) or not jti:
            raise Rejected("jti-missing", client)
        if len(jti) > MAX_JTI_LENGTH:
            raise Rejected("claims-invalid", client)
        if claim_jti is None:
            raise Rejected("replay-store-unavailable", client)
        expires_at = datetime.fromtimestamp(
            min(float(payload["exp"]) + self.leeway, 253402300799.0), UTC
        )
        try:
            fresh = claim_jti(replay_key(iss, jti), expires_at)
        except Exception:
            raise Rejected("replay-store-unavailable", client) from None
        if not fresh:
            raise Rejected("replay", client)
        return VerifiedToken(client=client, header=header, claims=payload)

    def _key(self, client: TrustedClient, header: Mapping[str, Any], kid: str) -> PublicJwk:
        jku = header.get("jku")
        if jku is not None:
            if not isinstance(jku, str) or jku not in client.jku_allowlist:
                raise Rejected("jku-not-allowed", client)
            # The inline keys are trusted for this client whatever the header says: while
            # the allowlisted URL is unreachable, a key of the same kid configured inline
            # still verifies (EHRs such as the sandbox always put a jku in their tokens).
            sources: list[str | None] = [jku, None] if client.jwks else [jku]
        else:
            sources = [None] if client.jwks else []
            if client.jku:
                sources.append(client.jku)
        unavailable = False
        for source in sources:
            if source is None:
                found = client.jwks.get(kid)
            else:
                try:
                    found = self.jwks.get_key(source, kid)
                except JwksUnavailable:
                    unavailable = True
                    continue
            if found is not None:
                return found
        raise Rejected("jwks-unavailable" if unavailable else "kid-unknown", client)

    def _check_claims(self, client: TrustedClient, token: str, claims: Mapping[str, Any],
                      audience: str) -> None:
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences:
            raise Rejected("aud-mismatch", client)
        expected = normalize_url(audience)
        if not any(isinstance(a, str) and normalize_url(a) == expected for a in audiences):
            raise Rejected("aud-mismatch", client)

        # Ours: the claims are JSON numbers within year 9999 (PyJWT would take "123" or
        # true); then PyJWT compares them with the wall clock, with our leeway.
        _numeric(claims, "exp", "exp-missing", client)
        _numeric(claims, "iat", "iat-missing", client)
        if "nbf" in claims:
            _numeric(claims, "nbf", "claims-invalid", client)
        try:
            jwt.decode(token, options=_TIME_CLAIMS, leeway=self.leeway)
        except jwt.ExpiredSignatureError:
            raise Rejected("expired", client) from None
        except jwt.ImmatureSignatureError as exc:
            raise Rejected("iat-future" if "(iat)" in str(exc) else "nbf-future",
                           client) from None
        except jwt.PyJWTError:
            raise Rejected("claims-invalid", client) from None

        if client.tenants:
            tenant = claims.get("tenant")
            if not isinstance(tenant, str) or tenant not in client.tenants:
                raise Rejected("tenant-mismatch", client)


def replay_key(iss: str, jti: str) -> str:
    """The replay-store key of a token: per issuer (RFC 7519 jti is unique per issuer),
    fixed length, and meaningless on its own."""
    return hashlib.sha256(f"{iss}\x00{jti}".encode()).hexdigest()


def _numeric(claims: Mapping[str, Any], name: str, missing: str,
             client: TrustedClient) -> float:
    if name not in claims:
        raise Rejected(missing, client)
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("claims-invalid", client)
    try:
        number = float(value)
    except OverflowError:
        raise Rejected("claims-invalid", client) from None
    if not math.isfinite(number) or abs(number) > 253402300799.0:  # beyond year 9999
        raise Rejected("claims-invalid", client)
    return number


def _b64decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("bad base64url") from exc


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        data = json.loads(_b64decode(segment), object_pairs_hook=_reject_duplicates)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Rejected("malformed-token") from None
    if not isinstance(data, dict):
        raise Rejected("malformed-token")
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate member")
        result[key] = value
    return result
