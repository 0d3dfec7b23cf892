"""Answers to requests that never reach the app: gunicorn's transport errors.

gunicorn refuses a malformed request itself (bad request line or header, a NUL in a
header, a bad Content-Length or chunk size, a request line or header over its limits) and
answers with an HTML page. Every non-2xx answer of this service is a FHIR
OperationOutcome, so :func:`install` (called from ``gunicorn.conf.py``) replaces gunicorn's
error writer with one that sends the same status as an OperationOutcome in
``application/json``. Nothing from the request is echoed: gunicorn's own message can quote
a header name or the request line (which may carry a token in a query string).

Keep-alive connections are closed after ``BACKPAIN_CDS_KEEPALIVE_REQUESTS`` requests (0:
never), as nginx's ``keepalive_requests`` does; the worker reads the limit from the app's
settings when it loads the app, whatever gunicorn configuration file started it
(:data:`KEEPALIVE_REQUESTS`, which ``gunicorn.conf.py`` sets, for an app without them).
Why: a connection stays with the worker that accepted it, and the workers race for each new
one, so a proxy or client that keeps a few connections open can leave every one of them on
one worker while the others idle (measured with wrk c=8 on 2 workers: one worker busy, the
other idle for whole runs, and after a ``max_requests`` restart the new worker got no
connection at all). A client told ``Connection: close`` opens a new connection, which an
idle worker is quickest to accept. Requests a client pipelined behind the last one are not
answered (HTTP lets a server close there; nginx does not pipeline). HTTP/2 connections are
not limited (gunicorn serves them on another path). ``backpain-cds serve`` warns at start
when gunicorn is told to use another worker class, which knows nothing of this.

Closing must not stall the worker: gunicorn closes a connection on the worker's one
event-loop thread, lingering up to 2 s for the client to close its side (RFC 9112 9.6),
and meanwhile every other connection of the worker waits (seen: a keep-alive call took
2.0 s while another client kept its socket open after "Connection: close"). With a limit
that close happens every 100 requests a connection, so :class:`ThreadWorker` closes at
once when nothing the client sent is left unread (then no reset can cut off the answer),
and lingers on a thread of its own otherwise.

:data:`LIMIT_REQUEST_FIELD_SIZE` lets an ``Authorization`` header carry a token up to the
verifier's own limit (:data:`service.trust.verify.MAX_TOKEN_BYTES`), so that a large
token is refused by the trust layer (the one 401) rather than by the transport.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import orjson

from service.errors import issue_code, operation_outcome
from service.trust.verify import MAX_TOKEN_BYTES

# "Authorization: Bearer " + a token at the verifier's limit, with room to spare.
LIMIT_REQUEST_FIELD_SIZE = MAX_TOKEN_BYTES + 4096

# Requests answered on one keep-alive connection before it is closed, for an app without
# the service's settings (gunicorn.conf.py sets it from the configuration before the workers
# are forked; the benchmarks' bare Flask app is served with it). 0: no limit.
KEEPALIVE_REQUESTS = 100


def keepalive_limit(app: Any) -> int:
    """The keep-alive request limit for ``app``: its settings' when it is the service's
    (``app.extensions["backpain"]``), else :data:`KEEPALIVE_REQUESTS`."""
    settings = getattr(app, "extensions", {}).get("backpain", {}).get("settings")
    limit = getattr(settings, "keepalive_requests", None)
    return limit if isinstance(limit, int) else KEEPALIVE_REQUESTS

# What a CDS client can do about each status gunicorn answers itself.
_DIAGNOSTICS: dict[int, str] = {
    400: "Malformed HTTP request (request line, a header, Content-Length or chunked body).",
    403: "Request refused by the HTTP server.",
    414: "Request line too long.",
    417: "Expectation not supported.",
    431: "Request header fields too large (a header or the number of headers).",
    501: "Transfer-Encoding not supported (only chunked).",
}


# FHIR issue types for the statuses the app itself never answers.
_ISSUE_CODES = {414: "too-long", 431: "too-long", 501: "not-supported"}


def error_bytes(status: int) -> bytes:
    """A complete HTTP/1.1 error response: status, OperationOutcome body, connection close."""
    diagnostics = _DIAGNOSTICS.get(status, "The HTTP server could not handle this request.")
    code = _ISSUE_CODES.get(status) or issue_code(status)
    body = orjson.dumps(operation_outcome(code, diagnostics))
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    head = (f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            "Cache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` signature; ``mesg`` is deliberately not sent."""
    from gunicorn import util

    util.write_nonblock(sock, error_bytes(int(status_int)))


def install() -> None:
    """Make gunicorn answer its own errors as OperationOutcomes (idempotent)."""
    from gunicorn import util

    util.write_error = write_error


try:
    from gunicorn.http.errors import ParseException
    from gunicorn.workers.gthread import ThreadWorker as _GunicornThreadWorker
except ImportError:  # pragma: no cover  (the app runs without gunicorn too)
    pass
else:
    class ThreadWorker(_GunicornThreadWorker):  # type: ignore[misc,valid-type]
        """gunicorn's gthread worker that closes a connection quietly when the body of a
        request the app has already answered cannot be drained (malformed chunking):
        gunicorn would write a second, unsolicited error answer on the connection, which
        a client reusing it would take for the answer to its next request. It also closes
        a connection after its keep-alive limit's request, and closes without stalling
        its event loop (module docstring)."""

        keepalive_requests = KEEPALIVE_REQUESTS

        def load_wsgi(self) -> None:
            super().load_wsgi()
            self.keepalive_requests = keepalive_limit(self.wsgi)

        def handle_request(self, req: Any, conn: Any) -> Any:
            limit = self.keepalive_requests
            if limit and req.req_number >= limit:
                req.must_close = True  # answered with "Connection: close", then closed
            return super().handle_request(req, conn)

        def finish_request(self, conn: Any, fs: Future[Any]) -> None:
            """On the event-loop thread: a connection to close after its answer is
            closed without lingering there (module docstring); the rest is gunicorn's."""
            try:
                closing = fs.cancelled() or not fs.result()
            except Exception:  # gunicorn's own path closes it at once
                closing = False
            if not closing:
                super().finish_request(conn, fs)
                return
            self.nr_conns -= 1
            close_without_stalling(conn)

        def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
            try:
                return bool(super()._keepalive_after(conn, keepalive))
            except ParseException:
                return False


def close_without_stalling(conn: Any) -> None:
    """Close a gunicorn connection after its last answer: at once when the client has
    nothing unread on it, else with gunicorn's lingering close on a thread of its own."""
    try:
        unread = _unread(conn)
    except Exception:  # cannot tell (a closed socket, another protocol's parser): linger
        unread = True
    if not unread:
        conn.close()
        return
    try:
        _LINGERING.submit(conn.close, graceful=True)
    except RuntimeError:  # the process is ending: no new threads, close at once
        conn.close()


def _unread(conn: Any) -> bool:
    """Bytes from the client not yet read: buffered by the parser, or waiting in the
    socket (a pipelined request, an unread body)."""
    parser = getattr(conn, "parser", None)
    if parser is not None and parser.unreader.buf.getvalue():  # HTTP/1's parser
        return True
    with selectors.DefaultSelector() as selector:
        selector.register(conn.sock, selectors.EVENT_READ)
        return bool(selector.select(timeout=0))


class _LingeringCloser:
    """A small pool, per process, for the closes that must linger: a client that sent more
    than was read gets up to 2 s to close its side. Made on first use; a forked child
    forgets its parent's (as :mod:`cds_rules.ids` does with its random pool)."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, close: Any, **kwargs: Any) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(2, thread_name_prefix="bpcd-close")
            pool = self._pool
        pool.submit(close, **kwargs)


_LINGERING = _LingeringCloser()
os.register_at_fork(after_in_child=_LINGERING.forget)
