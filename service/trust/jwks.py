"""Public keys of CDS clients: JWK parsing and a JWKS fetcher with a cache.

A JWKS URL (a client's configured ``jku``, or a token's ``jku`` header that is on the
client's allowlist) is fetched with a hard time limit, no redirects and a size cap, and
cached for ``JWKS_CACHE_SECONDS``. An unknown ``kid`` triggers a refresh at most once per
``refresh_interval`` seconds per URL (a client rotating keys is picked up at once, a flood
of made-up kids costs one fetch). When the endpoint is down, keys already fetched keep
being served (stale) for up to ``max_stale_seconds``, so an outage of the EHR's key
endpoint does not take the service down for calls whose keys we know.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

log = logging.getLogger(__name__)

#: The only signing algorithms accepted: asymmetric, as CDS Hooks requires.
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
_EC_CURVE_FOR_ALG = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MIN_RSA_BITS = 2048
MAX_KID_LENGTH = 256


class JwkError(ValueError):
    """A JWK that cannot be used to verify CDS client tokens (message says why)."""


class JwksUnavailable(Exception):
    """No keys could be obtained from a JWKS URL (never fetched successfully)."""


@dataclass(frozen=True, slots=True)
class PublicJwk:
    """A validated public signing key."""

    kid: str
    kty: str  # "RSA" or "EC"
    crv: str | None  # EC curve ("P-256", "P-384", "P-521")
    alg: str | None  # the JWK's own "alg", when it names one
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    def accepts(self, alg: str) -> bool:
        """May a token signed with ``alg`` be verified with this key?"""
        if alg not in ALLOWED_ALGORITHMS:
            return False
        if self.alg is not None and self.alg != alg:
            return False
        if alg[:2] in {"RS", "PS"}:
            return self.kty == "RSA"
        return self.kty == "EC" and self.crv == _EC_CURVE_FOR_ALG[alg]


def parse_jwk(raw: Any) -> PublicJwk:
    """Validate one JWK from a JWK Set; raise :class:`JwkError` saying what is wrong."""
    if not isinstance(raw, dict):
        raise JwkError("must be a JSON object")
    kid = raw.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise JwkError("'kid' is required (a non-empty string)")
    kty = raw.get("kty")
    if kty == "oct":
        raise JwkError(f"kid {kid!r}: symmetric (oct) keys are refused; use RSA or EC")
    if kty not in {"RSA", "EC"}:
        raise JwkError(f"kid {kid!r}: kty must be RSA or EC")
    if any(member in raw for member in _PRIVATE_MEMBERS):
        raise JwkError(f"kid {kid!r}: holds private key material; give the public key only")
    use = raw.get("use")
    if use is not None and use != "sig":
        raise JwkError(f"kid {kid!r}: 'use' must be 'sig'")
    key_ops = raw.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise JwkError(f"kid {kid!r}: 'key_ops' must include 'verify'")
    alg = raw.get("alg")
    if alg is not None and alg not in ALLOWED_ALGORITHMS:
        raise JwkError(f"kid {kid!r}: alg {alg!r} is not an accepted asymmetric algorithm")
    text = json.dumps(raw)
    try:
        loaded = (RSAAlgorithm if kty == "RSA" else ECAlgorithm).from_jwk(text)
    except Exception as exc:  # PyJWT / cryptography raise several types for bad keys
        raise JwkError(f"kid {kid!r}: not a valid {kty} public key ({exc})") from None
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    crv: str | None = None
    if isinstance(loaded, rsa.RSAPublicKey):
        if loaded.key_size < MIN_RSA_BITS:
            raise JwkError(f"kid {kid!r}: RSA key of {loaded.key_size} bits; "
                           f"at least {MIN_RSA_BITS} required")
        key = loaded
    elif isinstance(loaded, ec.EllipticCurvePublicKey):
        crv = _CURVE_NAMES.get(loaded.curve.name)
        if crv is None:
            raise JwkError(f"kid {kid!r}: curve must be P-256, P-384 or P-521")
        key = loaded
    else:
        raise JwkError(f"kid {kid!r}: not a {kty} public key")
    parsed = PublicJwk(kid=kid, kty=kty, crv=crv, alg=alg, key=key)
    if alg is not None and not parsed.accepts(alg):
        raise JwkError(f"kid {kid!r}: alg {alg!r} does not fit a {kty} key"
                       + (f" on {crv}" if crv else ""))
    return parsed


def parse_jwks_document(data: Any) -> dict[str, PublicJwk]:
    """The usable keys of a fetched JWK Set, by kid (unusable keys are skipped)."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise JwkError("not a JWK Set ({\"keys\": [...]})")
    keys: dict[str, PublicJwk] = {}
    for raw in data["keys"]:
        try:
            jwk = parse_jwk(raw)
        except JwkError as exc:
            log.debug("JWKS key skipped: %s", exc)
            continue
        if jwk.kid in keys:
            log.warning("JWKS lists kid %r twice; both ignored", jwk.kid)
            keys[jwk.kid] = None  # type: ignore[assignment]
            continue
        keys[jwk.kid] = jwk
    return {kid: jwk for kid, jwk in keys.items() if jwk is not None}


@dataclass(slots=True)
class _Entry:
    lock: threading.Lock
    keys: dict[str, PublicJwk] | None = None
    fetched_at: float = 0.0
    last_attempt: float | None = None
    last_failed: bool = False


class JwksCache:
    """Fetch-and-cache of JWK Sets by URL. Thread-safe; one instance per app."""

    def __init__(
        self,
        *,
        timeout: float,
        cache_seconds: float,
        refresh_interval: float = 30.0,
        failure_backoff: float = 5.0,
        max_stale_seconds: float = 86400.0,
        max_bytes: int = 256 * 1024,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.refresh_interval = refresh_interval
        self.failure_backoff = failure_backoff
        self.max_stale_seconds = max(max_stale_seconds, cache_seconds)
        self.max_bytes = max_bytes
        self.monotonic = monotonic
        self._transport = transport
        self._entries: dict[str, _Entry] = {}
        self._entries_lock = threading.Lock()
        self._client: httpx.Client | None = None
        #: successful and failed fetches (observability and tests)
        self.fetches = 0
        self.failures = 0

    def get_key(self, url: str, kid: str) -> PublicJwk | None:
        """The key ``kid`` published at ``url``; None when it is not there.

        Raises :class:`JwksUnavailable` when no key set could ever be fetched (or the last
        one is older than ``max_stale_seconds`` and cannot be refreshed).
        """
        entry = self._entry(url)
        now = self.monotonic()
        keys = entry.keys
        if keys is not None and kid in keys and now - entry.fetched_at < self.cache_seconds:
            return keys[kid]
        with entry.lock:
            now = self.monotonic()
            if self._should_fetch(entry, kid, now):
                self._fetch(url, entry, now)
            if entry.keys is None:
                raise JwksUnavailable(url)
            if now - entry.fetched_at >= self.cache_seconds:
                if now - entry.fetched_at >= self.max_stale_seconds:
                    raise JwksUnavailable(url)
                log.warning("JWKS %s could not be refreshed; serving keys fetched %.0f s ago",
                            url, now - entry.fetched_at)
            return entry.keys.get(kid)

    def _should_fetch(self, entry: _Entry, kid: str, now: float) -> bool:
        since = None if entry.last_attempt is None else now - entry.last_attempt
        if entry.keys is None or now - entry.fetched_at >= self.cache_seconds:
            # never fetched, or stale: fetch unless a fetch just failed
            return since is None or not entry.last_failed or since >= self.failure_backoff
        if kid in entry.keys:
            return False
        # fresh but the kid is unknown: maybe the client rotated keys; at a limited rate
        return since is None or since >= self.refresh_interval

    def _fetch(self, url: str, entry: _Entry, now: float) -> None:
        entry.last_attempt = now
        try:
            keys = self._download(url)
        except Exception as exc:  # any failure: keep what we have
            entry.last_failed = True
            self.failures += 1
            log.warning("JWKS fetch from %s failed: %s", url, _describe(exc))
            return
        entry.keys = keys
        entry.fetched_at = self.monotonic()
        entry.last_failed = False
        self.fetches += 1
        log.info("JWKS fetched from %s: %d usable key(s)", url, len(keys))

    def _download(self, url: str) -> dict[str, PublicJwk]:
        deadline = self.monotonic() + self.timeout
        client = self._http()
        with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise JwkError(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise JwkError(f"larger than {self.max_bytes} bytes")
                if self.monotonic() > deadline:
                    raise JwkError("timed out")
        try:
            data = json.loads(bytes(body))
        except ValueError:
            raise JwkError("not JSON") from None
        keys = parse_jwks_document(data)
        if not keys:
            raise JwkError("no usable signing key")
        return keys

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout, follow_redirects=False, transport=self._transport,
            )
        return self._client

    def _entry(self, url: str) -> _Entry:
        entry = self._entries.get(url)
        if entry is None:
            with self._entries_lock:
                entry = self._entries.setdefault(url, _Entry(lock=threading.Lock()))
        return entry

    def snapshot(self) -> Mapping[str, int]:
        """Number of cached keys per URL (for diagnostics)."""
        return {url: len(e.keys or {}) for url, e in self._entries.items()}


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.HTTPError):
        return type(exc).__name__
    return str(exc) or type(exc).__name__
