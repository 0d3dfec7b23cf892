"""The exact external URL the caller used: what a CDS client puts in the JWT ``aud``.

With ``BACKPAIN_CDS_PUBLIC_BASE_URL`` set (recommended in production) the URL is that base
plus the request path, whatever the request's Host header says. Otherwise it is derived
from the request; ``X-Forwarded-Proto``/``-Host``/``-Port``/``-Prefix`` are believed only
when the direct peer (the socket's remote address, before any ProxyFix rewriting) is one
of ``BACKPAIN_CDS_TRUSTED_PROXIES`` (IP addresses or CIDR networks). From anyone else
those headers are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from service.config import PREFIX, ConfigError

_DEFAULT_PORTS = {"http": "80", "https": "443"}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_public_base_url(raw: str) -> str:
    """Validate ``PUBLIC_BASE_URL``; return it without a trailing slash ('' when unset)."""
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{PREFIX}PUBLIC_BASE_URL={raw!r}: must be an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{PREFIX}PUBLIC_BASE_URL={raw!r}: must not have a query, "
                          "fragment or credentials")
    return normalize_url(raw).rstrip("/")


def parse_trusted_proxies(entries: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Validate ``TRUSTED_PROXIES``: IP addresses or CIDR networks."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(f"{PREFIX}TRUSTED_PROXIES: {entry!r} is not an IP address "
                              "or CIDR network") from None
    return tuple(networks)


def normalize_url(url: str) -> str:
    """Scheme and host in lower case, default port dropped; path kept exactly.

    A string that is not a parseable URL is returned as it is (it then matches nothing).
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or str(port) == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    result = f"{scheme}://{netloc}{parts.path}"
    if parts.query:
        result += "?" + parts.query
    return result


class ExternalUrl:
    """Computes the external URL of the endpoint a request called."""

    def __init__(self, public_base_url: str, trusted_proxies: Sequence[str]) -> None:
        self.public_base_url = parse_public_base_url(public_base_url)
        self.trusted_proxies = parse_trusted_proxies(trusted_proxies)

    def peer_is_trusted_proxy(self, environ: Mapping[str, Any]) -> bool:
        peer = _original(environ, "REMOTE_ADDR") or ""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    def for_request(self, environ: Mapping[str, Any], path: str) -> str:
        """The external URL of ``path`` (the path inside the app, e.g. ``/cds-services``)."""
        quoted = quote(path, safe="/:@!$&'()*+,;=-._~")
        if self.public_base_url:
            return self.public_base_url + quoted
        scheme = str(_original(environ, "wsgi.url_scheme") or "http")
        host = str(_original(environ, "HTTP_HOST") or "")
        if not host:
            server = str(_original(environ, "SERVER_NAME") or "localhost")
            port = str(_original(environ, "SERVER_PORT") or "")
            host = f"{server}:{port}" if port else server
        prefix = str(_original(environ, "SCRIPT_NAME") or "")
        if self.trusted_proxies and self.peer_is_trusted_proxy(environ):
            proto = _last(environ.get("HTTP_X_FORWARDED_PROTO"))
            if proto and proto.lower() in _DEFAULT_PORTS:
                scheme = proto.lower()
            forwarded_host = _last(environ.get("HTTP_X_FORWARDED_HOST"))
            if forwarded_host:
                host = forwarded_host
            forwarded_port = _last(environ.get("HTTP_X_FORWARDED_PORT"))
            if forwarded_port and forwarded_port.isdigit():
                host = _host_without_port(host) + ":" + forwarded_port
            forwarded_prefix = _last(environ.get("HTTP_X_FORWARDED_PREFIX"))
            if forwarded_prefix:
                prefix = "/" + forwarded_prefix.strip("/") if forwarded_prefix.strip("/") else ""
        return normalize_url(f"{scheme}://{host}{prefix.rstrip('/')}{quoted}")


def _original(environ: Mapping[str, Any], key: str) -> Any:
    """The WSGI value as the server set it, before werkzeug's ProxyFix rewrote it."""
    orig = environ.get("werkzeug.proxy_fix.orig")
    if isinstance(orig, Mapping) and key in orig:
        return orig[key]
    return environ.get(key)


def _last(value: Any) -> str:
    """The value added by the nearest proxy (the right-most of a comma-separated list)."""
    if not value:
        return ""
    return str(value).split(",")[-1].strip()


def _host_without_port(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
