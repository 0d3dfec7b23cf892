"""Flask application factory: the thin HTTP shell around the clinical core.

Each concern plugs in through its own ``init_app(app)`` (blueprints, request hooks,
extensions); shared per-app state lives in ``app.extensions["backpain"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from weakref import WeakSet

from flask import Flask

from cds_rules import VALUE_SETS, load_site_codes
from cds_rules import apply_site_codes as apply_site_code_pairs
from service import cors, errors, feedback, hooks, openapi, ops, pages, store, tracing
from service.admission import LargeCallGate
from service.config import Settings, load_settings
from service.db import utc_now
from service.fhir_client import HttpFetcher
from service.trust import init_app as init_trust


class ServiceApp(Flask):
    """Flask, with its check of whether a view or request hook is a coroutine function
    made once per function instead of on every request (``ensure_sync``, which Flask's
    documentation offers for overriding): about ten ``inspect`` checks a call otherwise
    (issue #15). The answers are held by weak reference: a per-request closure
    (``after_this_request``) or bound method is forgotten with it, never accumulated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: WeakSet[Callable[..., Any]] = WeakSet()  # functions Flask returned as is

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._plain:
                return func
        except TypeError:  # not weakly referable or not hashable: asked every time
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func:  # a coroutine's wrapper is made anew each time, as Flask does
            self._plain.add(func)
        return synced


def apply_site_codes(settings: Settings) -> None:
    """The site's own codes (BACKPAIN_CDS_SITE_CODES) added to the value sets, or none."""
    pairs = load_site_codes(settings.site_codes, set(VALUE_SETS)) if settings.site_codes else []
    apply_site_code_pairs(pairs)


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> Flask:
    """Build the WSGI app. ``settings`` defaults to the validated environment."""
    settings = settings or load_settings()
    apply_site_codes(settings)  # before discovery: prefetch templates list order codes
    app = ServiceApp(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["backpain"] = {"settings": settings, "clock": clock}
    app.extensions["backpain"]["fetcher"] = HttpFetcher(settings)  # reads missing prefetch
    app.extensions["backpain"]["large_calls"] = LargeCallGate(  # bounds a worker's memory
        settings.large_body_bytes, settings.large_calls_per_worker,
        settings.large_call_wait_seconds, settings.max_body_bytes)
    errors.init_app(app)  # every non-2xx answer is an OperationOutcome
    if settings.effective_cors_origins():  # production default: no browser origin
        cors.init_app(app, settings.effective_cors_origins())
    ops.init_app(app)  # /healthz /readyz /metrics, JSON logs, request ids (first: ids for all)
    init_trust(app)
    store.init_app(app)  # extensions["backpain"]["store"] and ["memory"]
    feedback.init_app(app)  # POST /cds-services/<id>/feedback
    hooks.init_app(app)  # GET /cds-services, POST /cds-services/<id>
    openapi.init_app(app)  # GET /openapi.json
    tracing.init_app(app)  # OpenTelemetry, when OTEL_* variables ask for it (off by default)
    pages.init_app(app)  # /rules /docs /fhir (open); /preview /governance (gated)
    return app
