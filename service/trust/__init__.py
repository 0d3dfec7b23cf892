"""Trust: only EHRs we trust may call the CDS endpoints (CDS Hooks "Trusting CDS Clients").

``init_app(app)`` loads the trusted clients, refuses to start without any (unless
``BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1``, which logs a warning), installs the log redaction
safety net, and registers a ``before_request`` check on every route under
``/cds-services`` (discovery, service calls, feedback; not CORS preflight ``OPTIONS``, not
``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``).

On success the request carries ``flask.g.cds_client`` (the :class:`TrustedClient`),
``flask.g.client_iss`` and ``flask.g.allowed_fhir_bases`` (the client's FHIR base URLs).
In unauthenticated mode they are ``None``, ``None`` and ``()``. Every failure is a 401 whose
body is the same opaque OperationOutcome; the reason goes to the log and to the
``backpain_cds_jwt_rejections_total{reason}`` metric, never to the caller.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, request

from service.config import PREFIX, ConfigError, Settings
from service.metrics import JWT_REJECTIONS

from . import redact
from .clients import TrustedClient, load_trusted_clients
from .external_url import ExternalUrl
from .jwks import JwksCache
from .replay import ReplayGuard
from .verify import Rejected, TokenVerifier, VerifiedToken

__all__ = ["Trust", "TrustedClient", "init_app", "unauthorized_response"]

log = logging.getLogger(__name__)

PROTECTED_PREFIX = "/cds-services"
_UNAUTHORIZED_BODY = json.dumps({
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "security", "diagnostics": "Unauthorized"}],
})
NO_CLIENTS_MESSAGE = (
    "no trusted clients configured; set BACKPAIN_CDS_TRUSTED_CLIENTS_FILE or "
    "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1 for local use"
)


def unauthorized_response() -> Response:
    """The one 401 answer: reveals nothing about why."""
    return Response(
        _UNAUTHORIZED_BODY, status=401, mimetype="application/json",
        headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
    )


def is_protected_path(path: str) -> bool:
    """Is ``path`` (inside the app) under ``/cds-services``? Tolerant of // and case."""
    while "//" in path:
        path = path.replace("//", "/")
    path = path.lower()
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


class Trust:
    """Per-app trust state: clients, verifier, JWKS cache, external-URL computation."""

    def __init__(self, settings: Settings, clients: tuple[TrustedClient, ...],
                 state: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.clients = clients
        self.allow_unauthenticated = settings.allow_unauthenticated
        self.external_url = ExternalUrl(settings.public_base_url, settings.trusted_proxies)
        self.jwks = JwksCache(
            timeout=settings.jwks_timeout_seconds, cache_seconds=settings.jwks_cache_seconds
        )
        # token times are checked (by PyJWT) against the wall clock, not the app's
        # injectable clinical clock (a scenario evaluated "as of" another date still needs
        # fresh tokens)
        self.verifier = TokenVerifier(
            clients, self.jwks, leeway_seconds=settings.jwt_leeway_seconds)
        # The shared replay store is the app's store (registered after trust).
        shared = state if state is not None else {}
        self.replay = ReplayGuard(lambda: getattr(shared.get("store"), "claim_jti", None),
                                  lambda: getattr(shared.get("store"), "remember_jtis", None))

    def applies_to(self) -> bool:
        current = request._get_current_object()  # type: ignore[attr-defined]  # one look-up
        if current.method == "OPTIONS":
            return False
        rule = current.url_rule
        if rule is not None and is_protected_path(rule.rule):
            return True
        return is_protected_path(current.path)

    def before_request(self) -> Response | None:
        if not self.applies_to():
            return None
        request_g = g._get_current_object()  # one context look-up, not three
        request_g.cds_client = None
        request_g.client_iss = None
        request_g.allowed_fhir_bases = ()
        if self.allow_unauthenticated:
            return None
        try:
            verified = self.verify_request()
        except Rejected as rejection:
            self._count_rejection(rejection)
            return unauthorized_response()
        except Exception:  # a bug must fail closed, as a 401, never let a call through
            log.exception("JWT verification failed unexpectedly")
            self._count_rejection(Rejected("verify-error"))
            return unauthorized_response()
        g.cds_client = verified.client
        g.client_iss = verified.client.iss
        g.allowed_fhir_bases = verified.client.fhir_base_urls
        log.debug("CDS client %s authenticated for %s %s",
                  verified.client.label, request.method, request.path)
        return None

    def verify_request(self) -> VerifiedToken:
        """Verify the current request's bearer token (raises :class:`Rejected`)."""
        token = _bearer_token(request.headers.get("Authorization"))
        audience = self.external_url.for_request(request.environ, request.path)
        return self.verifier.verify(token, audience, self.replay.claim)

    def _count_rejection(self, rejection: Rejected) -> None:
        JWT_REJECTIONS.labels(rejection.reason).inc()
        client = rejection.client.label if rejection.client else "-"
        log.warning("JWT rejected: reason=%s client=%s method=%s path=%s peer=%s",
                    rejection.reason, client, request.method, request.path,
                    request.remote_addr)


def _bearer_token(header: str | None) -> str:
    if not header:
        raise Rejected("missing-token")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Rejected("malformed-header")
    return token


def init_app(app: Flask) -> None:
    """Wire trust into ``app`` (see the module docstring). Raises ConfigError when unsafe."""
    state = app.extensions["backpain"]
    settings: Settings = state["settings"]
    redact.install()
    for handler in [*logging.getLogger().handlers, *app.logger.handlers]:
        if not any(isinstance(f, redact.RedactingFilter) for f in handler.filters):
            handler.addFilter(redact.RedactingFilter())

    clients: tuple[TrustedClient, ...] = ()
    if settings.trusted_clients_file:
        clients = load_trusted_clients(
            settings.trusted_clients_file, allow_http_loopback=settings.allow_http_loopback
        )
    if not clients and not settings.allow_unauthenticated:
        raise ConfigError(NO_CLIENTS_MESSAGE)
    trust = Trust(settings, clients, state)
    state["trust"] = trust
    state["trusted_clients"] = clients
    if settings.allow_unauthenticated:
        log.warning(
            "%sALLOW_UNAUTHENTICATED=1: the CDS endpoints accept calls WITHOUT verifying "
            "any JWT. For local development only; never in production.", PREFIX,
        )
    else:
        log.info("trust: %d trusted CDS client(s): %s", len(clients),
                 ", ".join(c.label for c in clients))
        if not trust.external_url.public_base_url:
            log.warning("%sPUBLIC_BASE_URL is not set: the JWT audience is derived from the "
                        "request's Host header; set it in production.", PREFIX)
    app.before_request(trust.before_request)
