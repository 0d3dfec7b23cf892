"""CORS for browser callers (flask-cors), with the answer to a call that sends no Origin
worked out once.

EHRs call server to server, without an ``Origin`` header; flask-cors then answers every
call the same way (with ``always_send``, the configured origins: ``*`` locally), yet works
it out afresh each time (the path against its resource patterns, the options, a
``MultiDict`` built and filtered, three debug lines). Here that answer is taken once, from
flask-cors itself on a probe request, and added to such calls as they are. Everything
else goes to flask-cors as before: a request with an ``Origin`` (even an empty one), a
preflight (``OPTIONS``), a private-network request, a response that already carries CORS
headers (the exception handlers flask-cors wraps add them first).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request
from flask_cors import CORS
from flask_cors.core import FLASK_CORS_EVALUATED

ALLOW_HEADERS = ("Authorization", "Content-Type")
METHODS = ("GET", "POST", "OPTIONS")
MAX_AGE = 600
_ALLOW_ORIGIN = "Access-Control-Allow-Origin"
# WSGI environ keys of the request headers that change flask-cors' answer.
_ORIGIN = "HTTP_ORIGIN"
_PRIVATE_NETWORK = "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"

AfterRequest = Callable[[Response], Response]


def init_app(app: Flask, origins: tuple[str, ...]) -> None:
    """flask-cors for ``origins`` on every path, its answer to an Origin-less call once."""
    CORS(app, origins=list(origins), allow_headers=list(ALLOW_HEADERS), methods=list(METHODS),
         max_age=MAX_AGE)
    funcs = app.after_request_funcs.setdefault(None, [])
    if not funcs or getattr(funcs[-1], "__name__", "") != "cors_after_request":
        return  # not the flask-cors we know: leave it as it is
    original: AfterRequest = funcs[-1]  # type: ignore[assignment]  # flask-cors': not async
    funcs[-1] = _without_origin_once(app, original)


def _origin_less_headers(app: Flask, cors_after_request: AfterRequest) -> tuple[
        tuple[str, str], ...]:
    """The headers flask-cors adds to an Origin-less GET, asked of flask-cors itself."""
    before = len(list(Response().headers.items()))  # a new response's own headers
    with app.test_request_context("/", method="GET"):
        probed = cors_after_request(Response())
    return tuple(probed.headers.items())[before:]


def _without_origin_once(app: Flask, cors_after_request: AfterRequest) -> AfterRequest:
    headers = _origin_less_headers(app, cors_after_request)

    def cors_after_request_fast(response: Response) -> Response:
        current = request._get_current_object()  # type: ignore[attr-defined]  # one look-up
        environ = current.environ
        if (_ORIGIN in environ or current.method == "OPTIONS" or _PRIVATE_NETWORK in environ
                or _ALLOW_ORIGIN in response.headers
                or hasattr(response, FLASK_CORS_EVALUATED)):
            return cors_after_request(response)
        for name, value in headers:
            response.headers.add(name, value)
        return response

    cors_after_request_fast.__wrapped__ = cors_after_request  # type: ignore[attr-defined]
    return cors_after_request_fast
