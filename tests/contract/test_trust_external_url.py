"""The external URL (the JWT ``aud``): from PUBLIC_BASE_URL, or from the request, trusting
X-Forwarded-* only from configured proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from service.config import ConfigError
from service.trust import is_protected_path
from service.trust.external_url import ExternalUrl, normalize_url
from tests.trust_support import (
    DISCOVERY,
    Signer,
    TrustedApp,
    assert_unauthorized,
    client_entry,
    make_trusted_app,
    rejections,
)

FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "cds.hospital.org",
    "X-Forwarded-Prefix": "/backpain",
}


def environ(headers: dict[str, str] | None = None, remote: str = "10.1.2.3",
            base_url: str = "http://internal:8080") -> dict[str, Any]:
    builder = EnvironBuilder(path="/cds-services", base_url=base_url, headers=headers or {},
                             environ_base={"REMOTE_ADDR": remote})
    return builder.get_environ()


def test_public_base_url_wins_over_every_header() -> None:
    urls = ExternalUrl("https://CDS.hospital.org:443/backpain/", ["10.0.0.0/8"])
    env = environ({**FORWARDED, "X-Forwarded-Host": "evil.example"})
    assert urls.for_request(env, "/cds-services") == "https://cds.hospital.org/backpain/cds-services"


def test_without_base_url_the_request_host_is_used() -> None:
    urls = ExternalUrl("", [])
    assert urls.for_request(environ(), "/cds-services/x") == "http://internal:8080/cds-services/x"


def test_forwarded_headers_from_an_untrusted_peer_are_ignored() -> None:
    urls = ExternalUrl("", ["192.168.7.7"])
    env = environ(FORWARDED, remote="10.1.2.3")
    assert urls.for_request(env, "/cds-services") == "http://internal:8080/cds-services"


def test_forwarded_headers_from_a_trusted_proxy_are_used() -> None:
    urls = ExternalUrl("", ["10.0.0.0/8"])
    env = environ(FORWARDED, remote="10.1.2.3")
    assert urls.for_request(env, "/cds-services") == "https://cds.hospital.org/backpain/cds-services"


def test_the_nearest_proxys_value_counts() -> None:
    urls = ExternalUrl("", ["10.1.2.3"])
    env = environ({"X-Forwarded-Host": "spoofed.example, cds.hospital.org",
                   "X-Forwarded-Proto": "http, https", "X-Forwarded-Port": "8443"})
    assert urls.for_request(env, "/cds-services") == "https://cds.hospital.org:8443/cds-services"


def test_proxyfix_rewrites_do_not_fool_the_peer_check() -> None:
    """Behind werkzeug's ProxyFix, REMOTE_ADDR is the forwarded client: the original peer
    decides, and the original Host is the base unless that peer is a trusted proxy."""
    captured: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        captured.update(env)
        start_response("200 OK", [])
        return []

    env = environ({**FORWARDED, "X-Forwarded-For": "10.9.9.9"}, remote="203.0.113.5")
    ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_prefix=1)(env, lambda *a: None)
    assert captured["REMOTE_ADDR"] == "10.9.9.9"
    urls = ExternalUrl("", ["10.0.0.0/8"])
    assert urls.for_request(captured, "/cds-services") == "http://internal:8080/cds-services"


@pytest.mark.parametrize(("raw", "normal"), [
    ("HTTPS://Cds.Example.ORG:443/a/B", "https://cds.example.org/a/B"),
    ("http://cds.example.org:80/x", "http://cds.example.org/x"),
    ("https://cds.example.org:8443/x", "https://cds.example.org:8443/x"),
    ("https://[::1]:443/x", "https://[::1]/x"),
])
def test_normalize_url(raw: str, normal: str) -> None:
    assert normalize_url(raw) == normal


@pytest.mark.parametrize("bad", ["cds.example.org", "ftp://x/y", "https://x/y?q=1"])
def test_bad_public_base_url_stops_startup(bad: str) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        ExternalUrl(bad, [])


def test_bad_trusted_proxy_stops_startup() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        ExternalUrl("", ["10.0.0.1", "not-an-ip"])


@pytest.mark.parametrize(("path", "protected"), [
    ("/cds-services", True), ("/cds-services/x", True), ("/cds-services/x/feedback", True),
    ("//cds-services", True), ("/CDS-Services/x", True), ("/cds-services-x", False),
    ("/healthz", False), ("/metrics", False), ("/openapi.json", False),
])
def test_protected_paths(path: str, protected: bool) -> None:
    assert is_protected_path(path) is protected


# --- end to end: an app without PUBLIC_BASE_URL behind a proxy ------------------------------

PUBLIC = "https://cds.hospital.org/backpain"


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[TrustedApp, Signer]]:
    key = Signer.rsa("RS384", "proxy-test")
    app = make_trusted_app(tmp_path, [client_entry(key)], f"sqlite:///{tmp_path / 'p.sqlite3'}",
                           public_base_url="", trusted_proxies=("10.0.0.5",))
    yield app, key
    app.dispose()


def test_app_believes_forwarded_headers_only_from_its_proxy(
        proxied: tuple[TrustedApp, Signer]) -> None:
    trusted, key = proxied
    before = rejections("aud-mismatch")
    spoofed = trusted.call(DISCOVERY, key.token(base=PUBLIC), method="GET",
                           headers=FORWARDED, remote_addr="10.0.0.99")
    assert_unauthorized(spoofed)
    assert rejections("aud-mismatch") == before + 1

    via_proxy = trusted.call(DISCOVERY, key.token(base=PUBLIC), method="GET",
                             headers=FORWARDED, remote_addr="10.0.0.5")
    assert via_proxy.status_code != 401
    assert trusted.seen[-1].client_iss is not None


def test_app_without_proxy_uses_the_host_it_was_called_on(
        proxied: tuple[TrustedApp, Signer]) -> None:
    trusted, key = proxied
    response = trusted.call(DISCOVERY, key.token(base="http://localhost"), method="GET")
    assert response.status_code != 401
