"""The trusted CDS clients: which EHRs may call us, with which keys, for which FHIR servers.

The file named by ``BACKPAIN_CDS_TRUSTED_CLIENTS_FILE`` holds a JSON list (or an object
``{"clients": [...]}``) of clients::

    [
      {
        "iss": "https://ehr.hospital.org",           # required, unique
        "name": "Main EHR",                           # optional, for logs
        "jwks": {"keys": [ {...public JWK...} ]},     # inline public keys, and/or
        "jku": "https://ehr.hospital.org/jwks.json",  # a JWKS URL we fetch
        "jku_allowlist": ["https://ehr.hospital.org/jwks.json"],
                                                      # URLs a token's `jku` header may name
        "tenants": ["org-1"],                         # optional: the token's `tenant` must be one
        "fhir_base_urls": ["https://ehr.hospital.org/fhir"]
      }
    ]

Everything is checked at start-up; a bad file stops the service with a message naming the
client and the field. Private key material and symmetric (``oct``) keys are refused: the
file holds public keys only.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service.config import PREFIX, ConfigError

from .jwks import JwkError, PublicJwk, parse_jwk

_ENV = PREFIX + "TRUSTED_CLIENTS_FILE"
_FIELDS = frozenset(
    {"iss", "name", "jwks", "jku", "jku_allowlist", "tenants", "fhir_base_urls"}
)


@dataclass(frozen=True, eq=False, slots=True)
class TrustedClient:
    """One CDS client (an EHR) we accept calls from."""

    iss: str
    name: str = ""
    #: inline public keys by ``kid``
    jwks: Mapping[str, PublicJwk] = field(default_factory=dict)
    #: JWKS URL fetched when a token names no ``jku`` (always also on the allowlist)
    jku: str | None = None
    #: URLs a token's ``jku`` header may point to
    jku_allowlist: tuple[str, ...] = ()
    #: when not empty, the token's ``tenant`` claim must be one of these
    tenants: tuple[str, ...] = ()
    #: FHIR servers this client may send us to (``fhirServer``), without trailing slash
    fhir_base_urls: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How the client is named in logs (never a secret)."""
        return self.name or self.iss


def load_trusted_clients(
    path: str | Path, *, allow_http_loopback: bool = False
) -> tuple[TrustedClient, ...]:
    """Read and validate the trusted-clients file; raise :class:`ConfigError` when bad."""
    where = f"{_ENV}={str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file ({exc.strerror or exc})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc})") from None
    return parse_trusted_clients(data, where=where, allow_http_loopback=allow_http_loopback)


def parse_trusted_clients(
    data: Any, *, where: str = _ENV, allow_http_loopback: bool = False
) -> tuple[TrustedClient, ...]:
    """Validate already-parsed client entries (the file's content)."""
    if isinstance(data, dict) and set(data) == {"clients"}:
        data = data["clients"]
    if not isinstance(data, list):
        raise ConfigError(f"{where}: must hold a JSON list of clients")
    clients: list[TrustedClient] = []
    seen: set[str] = set()
    for index, entry in enumerate(data, start=1):
        client = _parse_client(entry, f"{where}: client #{index}", allow_http_loopback)
        if client.iss in seen:
            raise ConfigError(f"{where}: client #{index}: iss {client.iss!r} listed twice")
        seen.add(client.iss)
        clients.append(client)
    return tuple(clients)


def _parse_client(entry: Any, where: str, allow_http_loopback: bool) -> TrustedClient:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a JSON object")
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss.strip():
        raise ConfigError(f"{where}: 'iss' is required (a non-empty string)")
    where = f"{where} (iss {iss!r})"
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        known = ", ".join(sorted(_FIELDS))
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; known: {known}")
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise ConfigError(f"{where}: 'name' must be a string")

    keys = _parse_inline_jwks(entry.get("jwks"), where)

    jku = entry.get("jku")
    if jku is not None:
        jku = _jwks_url(jku, f"{where}: 'jku'", allow_http_loopback)
    allowlist_raw = entry.get("jku_allowlist")
    if allowlist_raw is None:
        allowlist: tuple[str, ...] = (jku,) if jku else ()
    else:
        if not isinstance(allowlist_raw, list):
            raise ConfigError(f"{where}: 'jku_allowlist' must be a list of URLs")
        allowlist = tuple(
            _jwks_url(url, f"{where}: 'jku_allowlist'", allow_http_loopback)
            for url in allowlist_raw
        )
        if jku and jku not in allowlist:
            raise ConfigError(f"{where}: 'jku' {jku!r} must also be listed in 'jku_allowlist'")
    if not keys and not allowlist:
        raise ConfigError(f"{where}: give its public keys: 'jwks' (inline) and/or 'jku'")

    tenants = _string_list(entry.get("tenants", []), f"{where}: 'tenants'")

    if "fhir_base_urls" not in entry:
        raise ConfigError(f"{where}: 'fhir_base_urls' is required (a list, may be empty)")
    bases_raw = _string_list(entry["fhir_base_urls"], f"{where}: 'fhir_base_urls'")
    bases = tuple(_http_url(url, f"{where}: 'fhir_base_urls'").rstrip("/") for url in bases_raw)

    return TrustedClient(
        iss=iss,
        name=name,
        jwks=keys,
        jku=jku,
        jku_allowlist=allowlist,
        tenants=tenants,
        fhir_base_urls=bases,
    )


def _parse_inline_jwks(raw: Any, where: str) -> dict[str, PublicJwk]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), list):
        raise ConfigError(f"{where}: 'jwks' must be a JWK Set: {{\"keys\": [...]}}")
    keys: dict[str, PublicJwk] = {}
    for number, jwk in enumerate(raw["keys"], start=1):
        try:
            parsed = parse_jwk(jwk)
        except JwkError as exc:
            raise ConfigError(f"{where}: 'jwks' key #{number}: {exc}") from None
        kid = parsed.kid
        if kid in keys:
            raise ConfigError(f"{where}: 'jwks' key #{number}: kid {kid!r} used twice")
        keys[kid] = parsed
    return keys


def _string_list(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise ConfigError(f"{where}: must be a list of non-empty strings")
    return tuple(raw)


def _http_url(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: {raw!r} is not a URL string")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{where}: {raw!r} is not an absolute http(s) URL")
    if parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{where}: {raw!r} must not carry a fragment or credentials")
    return raw


def _jwks_url(raw: Any, where: str, allow_http_loopback: bool) -> str:
    url = _http_url(raw, where)
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    if allow_http_loopback and is_loopback_host(parts.hostname or ""):
        return url
    raise ConfigError(
        f"{where}: {url!r} must be https (http only on loopback with "
        f"{PREFIX}ALLOW_HTTP_LOOPBACK=1)"
    )


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _no_duplicate_keys(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result
