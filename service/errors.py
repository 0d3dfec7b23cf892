"""Every non-2xx answer is a FHIR OperationOutcome, with no internals in it.

CDS Hooks 2.0.1 defines no error body; we follow the 3.0 ballot and answer an
OperationOutcome (``application/json``), so an EHR can log one clear sentence. Raise
:class:`ServiceError` anywhere in a request; Werkzeug's HTTP errors (404, 405, 413 ...) and
unexpected exceptions are turned into the same shape by the handlers of :func:`init_app`.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from cds_rules import raised_at

log = logging.getLogger(__name__)

# FHIR issue-type codes (http://hl7.org/fhir/valueset-issue-type.html) per HTTP status.
ISSUE_CODES: dict[int, str] = {
    400: "invalid",
    401: "security",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "incomplete",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
# Statuses whose reason must never be explained to the caller (CDS_HOOKS.md: 401 with no
# detail); the fixed sentence is all they get.
_OPAQUE = {401: "Unauthorized", 403: "Forbidden"}
_MAX_DIAGNOSTICS = 1000
# Werkzeug's own sentences are written for browsers; these say what a CDS client can do.
_HTTP_DIAGNOSTICS: dict[int, str] = {
    404: "Not found. GET /cds-services lists the CDS services.",
    405: "Method not allowed on this URL (see the Allow header).",
    413: "Request body too large for this service.",
}


class ServiceError(Exception):
    """A request that cannot be answered normally: HTTP status, FHIR issue code, reason.

    ``diagnostics`` is shown to the caller: it must hold no token, no internals and no
    patient data (it may name fields and prefetch keys).
    """

    def __init__(self, status: int, diagnostics: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code or issue_code(status)
        self.headers = headers or {}


def issue_code(status: int) -> str:
    """The FHIR issue-type code for an HTTP error status."""
    return ISSUE_CODES.get(status, "exception" if status >= 500 else "invalid")


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    """A minimal FHIR R4 OperationOutcome with one issue."""
    text = diagnostics if len(diagnostics) <= _MAX_DIAGNOSTICS else diagnostics[:997] + "..."
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def error_response(
    status: int, diagnostics: str, code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The HTTP answer for an error: status, OperationOutcome body, extra headers."""
    code = code or issue_code(status)
    diagnostics = _OPAQUE.get(status, diagnostics)
    body = orjson.dumps(operation_outcome(code, diagnostics))
    response = Response(body, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def service_error_response(error: ServiceError) -> Response:
    return error_response(error.status, error.diagnostics, error.code, error.headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    # Keep protocol headers such as Allow (405) and WWW-Authenticate (401); drop the HTML
    # content type Werkzeug would send.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    diagnostics = _HTTP_DIAGNOSTICS.get(status) or error.description or error.name
    return error_response(status, diagnostics, headers=headers)


def _unexpected_error(error: Exception) -> Response:
    # The log gets the exception's type and where it was raised, never its text or a
    # traceback's (they may quote the request: a name, a display, which the log filter
    # does not know to scrub); the caller learns only that it failed.
    log.error("unhandled error answering a request: %s at %s", type(error).__name__,
              raised_at(error))
    return error_response(500, "Internal error: the service could not answer this request.",
                          "exception")


def init_app(app: Flask) -> None:
    """Register the OperationOutcome error handlers on ``app``."""
    app.register_error_handler(ServiceError, service_error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
