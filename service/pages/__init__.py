"""Pages for clinicians and safety officers, and the clinical knowledge as FHIR R4.

Two blueprints, both server-rendered (Jinja, one local stylesheet, no JavaScript framework,
nothing from a CDN):

- ``knowledge`` (open, like ``/openapi.json``: no patient data): ``/rules``,
  ``/rules/<id>``, ``/docs`` (Swagger UI from the ``swagger-ui-bundle`` package) and the
  FHIR knowledge under ``/fhir`` (PlanDefinition, ActivityDefinition, ValueSet);
- ``pages`` (``/preview``, ``/governance``: they evaluate pasted patient data and read the
  feedback store): on under ``make run``; in production only with
  ``BACKPAIN_CDS_PAGES=on``, and then behind the operator credential (:mod:`.access`).
"""

from __future__ import annotations

from flask import Flask, Response, request

from service.logs import request_seconds
from service.pages import access, catalogue_views, docs, fhir_views, governance, preview
from service.pages.render import init_jinja

_PAGE_PREFIXES = ("/rules", "/preview", "/governance", "/docs", "/fhir")


def init_app(app: Flask) -> None:
    """Register the blueprints; the gate decides at start-up whether the pages are on."""
    gate = access.Gate.from_settings(app.extensions["backpain"]["settings"])
    app.extensions["backpain"]["pages_gate"] = gate
    init_jinja(app)
    # A pasted Bundle is one form field: allow it up to the body limit (Werkzeug's default
    # for a non-file field is 500 kB, which a 1 MB Synthea patient exceeds: 413).
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.register_blueprint(catalogue_views.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(fhir_views.bp)
    app.register_blueprint(preview.bp)
    app.register_blueprint(governance.bp)
    app.after_request(_server_timing)


# Pages load nothing from elsewhere and run no inline script (Swagger UI's initialiser is
# a file): a page cannot be framed, and injected markup could not load or post anywhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; "
                           "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'; object-src 'none'")


def _server_timing(response: Response) -> Response:
    """On every page: ``Server-Timing: app;dur=<ms>`` (the 100 ms budget, visible in a
    browser's network panel) and the security headers of a page."""
    elapsed = request_seconds()
    path = request.path
    if elapsed is not None and (path == "/" or path.startswith(_PAGE_PREFIXES)):
        response.headers["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
