"""JWKS by URL, served by a real HTTP server (pytest-httpserver): fetched once and cached,
refreshed on an unknown kid at a limited rate, stale keys served while the endpoint is down.
Time is moved by hand (the cache's monotonic clock), never slept."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from tests.trust_support import (
    DISCOVERY,
    SERVICE,
    Signer,
    TrustedApp,
    assert_unauthorized,
    client_entry,
    make_trusted_app,
    rejections,
)

JWKS_PATH = "/ehr/jwks.json"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def key() -> Signer:
    return Signer.ec("ES384", "k1")


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


def serve(httpserver: Any, *signers: Signer, path: str = JWKS_PATH) -> None:
    httpserver.clear_all_handlers()
    httpserver.expect_request(path).respond_with_json(
        {"keys": [s.public_jwk() for s in signers]})


def fetches(httpserver: Any, path: str = JWKS_PATH) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


@pytest.fixture
def trusted(tmp_path: Path, httpserver: Any, key: Signer,
            monotonic: Monotonic) -> Iterator[TrustedApp]:
    url = httpserver.url_for(JWKS_PATH)
    extra_url = httpserver.url_for("/ehr/extra-jwks.json")
    app = make_trusted_app(
        tmp_path, [client_entry(jku=url, jku_allowlist=[url, extra_url])],
        f"sqlite:///{tmp_path / 'jwks.sqlite3'}", jwks_timeout_seconds=0.5,
    )
    app.trust.jwks.monotonic = monotonic
    yield app
    app.dispose()


def accepted(trusted: TrustedApp, signer: Signer, path: str = DISCOVERY,
             header: dict[str, Any] | None = None) -> bool:
    response = trusted.call(path, signer.token(path, header=header))
    if response.status_code == 401:
        return False
    return trusted.seen[-1].client_iss is not None


def test_keys_are_fetched_once_then_cached(trusted: TrustedApp, httpserver: Any,
                                           key: Signer, monotonic: Monotonic) -> None:
    serve(httpserver, key)
    assert accepted(trusted, key)
    assert accepted(trusted, key, SERVICE)
    monotonic.advance(3000)  # within JWKS_CACHE_SECONDS (3600)
    assert accepted(trusted, key)
    assert fetches(httpserver) == 1
    monotonic.advance(700)  # now stale: fetched again
    assert accepted(trusted, key)
    assert fetches(httpserver) == 2


def test_unknown_kid_refreshes_at_a_limited_rate(trusted: TrustedApp, httpserver: Any,
                                                 key: Signer, monotonic: Monotonic) -> None:
    serve(httpserver, key)
    assert accepted(trusted, key)
    rotated = Signer.ec("ES384", "k2")
    serve(httpserver, key, rotated)
    monotonic.advance(31)
    assert accepted(trusted, rotated)  # unknown kid: refreshed at once
    assert fetches(httpserver) == 2

    made_up = [Signer.ec("ES384", f"bogus-{n}") for n in range(5)]
    before = rejections("kid-unknown")
    for bogus in made_up:  # a flood of unknown kids costs no fetch inside 30 s
        assert not accepted(trusted, bogus)
    assert rejections("kid-unknown") == before + 5
    assert fetches(httpserver) == 2

    newest = Signer.ec("ES384", "k3")
    serve(httpserver, key, rotated, newest)
    monotonic.advance(10)
    assert not accepted(trusted, newest)  # still inside the 30 s window
    monotonic.advance(25)
    assert accepted(trusted, newest)
    assert fetches(httpserver) == 3


def test_stale_keys_are_served_while_the_endpoint_fails(trusted: TrustedApp, httpserver: Any,
                                                        key: Signer,
                                                        monotonic: Monotonic) -> None:
    serve(httpserver, key)
    assert accepted(trusted, key)
    httpserver.clear_all_handlers()
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=503)
    monotonic.advance(4000)  # cache expired; refresh fails
    assert accepted(trusted, key)
    assert fetches(httpserver) == 2
    assert accepted(trusted, key)  # and the failing endpoint is not hammered
    assert fetches(httpserver) == 2


def test_stale_keys_are_served_while_the_endpoint_hangs(trusted: TrustedApp, httpserver: Any,
                                                        key: Signer,
                                                        monotonic: Monotonic) -> None:
    serve(httpserver, key)
    assert accepted(trusted, key)
    release = threading.Event()
    reached, answered = threading.Event(), threading.Event()

    def hanging(request: Request) -> Response:
        reached.set()
        release.wait(5)  # far longer than JWKS_TIMEOUT_SECONDS=0.5, until the test ends
        answered.set()
        return Response("{}", content_type="application/json")

    httpserver.clear_all_handlers()
    httpserver.expect_request(JWKS_PATH).respond_with_handler(hanging)
    monotonic.advance(4000)
    jwks = trusted.trust.jwks
    fetched, failed = jwks.fetches, jwks.failures
    try:
        assert accepted(trusted, key)
        # The refresh was tried, and the token accepted with the stale keys before the
        # endpoint answered: the fetch timeout, not the endpoint, ended the wait.
        assert reached.is_set() and not answered.is_set()
        assert (jwks.fetches, jwks.failures) == (fetched, failed + 1)
    finally:
        release.set()
        _wait_for_requests(httpserver, 2)  # let the hanging request finish in this test


def _wait_for_requests(httpserver: Any, count: int) -> None:
    deadline = time.monotonic() + 5
    while fetches(httpserver) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_endpoint_down_with_nothing_cached_refuses(trusted: TrustedApp, httpserver: Any,
                                                   key: Signer, monotonic: Monotonic) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    before = rejections("jwks-unavailable")
    assert_unauthorized(trusted.call(DISCOVERY, key.token()))
    assert_unauthorized(trusted.call(DISCOVERY, key.token()))
    assert rejections("jwks-unavailable") == before + 2
    assert fetches(httpserver) == 1  # retried only after a back-off
    serve(httpserver, key)
    monotonic.advance(6)
    assert accepted(trusted, key)


def test_token_jku_on_the_allowlist_is_used(trusted: TrustedApp, httpserver: Any,
                                            monotonic: Monotonic) -> None:
    extra = Signer.rsa("RS384", "extra-1")
    serve(httpserver, extra, path="/ehr/extra-jwks.json")
    jku = httpserver.url_for("/ehr/extra-jwks.json")
    assert accepted(trusted, extra, header={"jku": jku})
    assert fetches(httpserver, "/ehr/extra-jwks.json") == 1
    assert fetches(httpserver) == 0  # the configured jku was not needed


@pytest.mark.parametrize("document", [
    {"keys": []},
    {"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}]},
    {"not": "a jwks"},
])
def test_unusable_jwks_documents_are_not_trusted(trusted: TrustedApp, httpserver: Any,
                                                 key: Signer, document: Any) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(document)
    before = rejections("jwks-unavailable")
    assert_unauthorized(trusted.call(DISCOVERY, key.token()))
    assert rejections("jwks-unavailable") == before + 1


def test_redirects_are_not_followed(trusted: TrustedApp, httpserver: Any, key: Signer) -> None:
    httpserver.expect_request("/elsewhere.json").respond_with_json(key.jwks())
    httpserver.expect_request(JWKS_PATH).respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere.json")})
    assert_unauthorized(trusted.call(DISCOVERY, key.token()))
    assert fetches(httpserver, "/elsewhere.json") == 0


def test_oversized_jwks_is_refused(trusted: TrustedApp, httpserver: Any, key: Signer) -> None:
    document = key.jwks()
    document["padding"] = "x" * (300 * 1024)
    httpserver.expect_request(JWKS_PATH).respond_with_json(document)
    assert_unauthorized(trusted.call(DISCOVERY, key.token()))


def test_unreachable_token_jku_falls_back_to_the_inline_key_of_that_kid(
        tmp_path: Path, httpserver: Any) -> None:
    """The sandbox's tokens always carry a jku: while that URL is down, the key of the
    same kid configured inline still verifies; another kid is still refused."""
    inline = Signer.ec("ES384", "sandbox-1")
    unknown = Signer.ec("ES384", "sandbox-2")
    jku = httpserver.url_for("/down/jwks.json")
    httpserver.expect_request("/down/jwks.json").respond_with_data("down", status=503)
    app = make_trusted_app(tmp_path, [client_entry(inline, jku_allowlist=[jku])],
                           f"sqlite:///{tmp_path / 'fallback.sqlite3'}",
                           jwks_timeout_seconds=0.5)
    try:
        assert accepted(app, inline, header={"jku": jku})
        assert fetches(httpserver, "/down/jwks.json") == 1  # tried first, unreachable
        before = rejections("jwks-unavailable")
        assert not accepted(app, unknown, header={"jku": jku})
        assert rejections("jwks-unavailable") == before + 1
    finally:
        app.dispose()
