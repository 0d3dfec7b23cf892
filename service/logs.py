"""Structured JSON logs: one JSON object a line, correlated, and scrubbed.

Every line written while a request is handled carries ``request_id`` (the caller's
``X-Request-ID`` when it is sane, else a fresh one; echoed in the response header) and,
for hook calls, the ``hookInstance`` the EHR sent, so that one call can be followed from
the EHR's log through the load balancer to ours. One access line per request is written
here too (method, path without the query string, status, duration).

Nothing secret or identifying reaches a line: :class:`RedactionFilter` removes tokens
(the trust layer's patterns), FHIR patient references, identifier-like key/value pairs,
and the current request's own ``context.patientId`` wherever it appears.
"""

from __future__ import annotations

import atexit
import logging
import random
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

import orjson
from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.core import LogData
from pythonjsonlogger.json import JsonEncoder, JsonFormatter

from service.log_writer import LineWriter
from service.trust.redact import (
    MAY_HOLD_TOKEN,
    RedactingFilter,
    ascii_may_hold_token,
    count_redaction,
    holds_any,
    scrub_record,
)
from service.trust.redact import redact as redact_tokens

REQUEST_ID_HEADER = "X-Request-ID"
REDACTED = "[REDACTED]"
ACCESS_LOGGER = "backpain_cds.access"
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: DEBUG, not INFO
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_PATIENT_REFERENCE = re.compile(r"\b(Patient/)[A-Za-z0-9\-.]{1,64}")
_IDENTIFYING_WORDS = ("patientId", "patient_id", "patient", "subject", "identifier", "mrn",
                      "birthDate")
_IDENTIFYING_PAIR = re.compile(
    rf"(?i)([\"']?\b(?:{'|'.join(_IDENTIFYING_WORDS)})[\"']?"
    r"\s*[:=]\s*[\"']?)(?!\[REDACTED\])[^\s\"',;}&)]+"
)
# Keys whose value is a credential: replaced whole like the others, and counted as a
# token removed (the tests' log guard then says which code tried to log one).
_SECRET_KEYS = frozenset({"authorization", "access_token", "token", "jwt",
                          "fhirauthorization"})
_IDENTIFYING_KEYS = frozenset(
    {"patientid", "patient_id", "patient", "subject", "identifier", "mrn", "birthdate"}
) | _SECRET_KEYS
# What the two patterns above need to match (same words, same case rules): a text without
# any of them (most log lines) skips both substitutions.
_MAY_IDENTIFY = re.compile(
    rf"\bPatient/|(?i:[\"']?\b(?:{'|'.join(_IDENTIFYING_WORDS)})[\"']?\s*[:=])"
)
_IDENTIFYING_LOWER = tuple(word.lower() for word in _IDENTIFYING_WORDS)
# Either of the above or a token's mark: one scan of an ordinary text instead of two.
_MAY_NEED_SCRUB = re.compile(f"{MAY_HOLD_TOKEN.pattern}|{_MAY_IDENTIFY.pattern}")
# Hook bodies are scanned (not parsed: the shell parses once) for these two values.
_HOOK_INSTANCE = re.compile(rb'"hookInstance"\s*:\s*"([^"\\]{1,128})"')
_PATIENT_ID = re.compile(rb'"patientId"\s*:\s*"([^"\\]{1,64})"')
_MIN_LITERAL_ID = 4  # shorter ids are left to the patterns (too many false hits)
# Stamped on every line of a request from what the caller sent (X-Request-ID, the body's
# hookInstance): scrubbed of tokens and identifier patterns, not of the patient's literal
# id, which a uuid may contain by chance (the line must stay correlated).
_OWN_ATTRS = frozenset({"request_id", "hookInstance"})


# ----------------------------------------------------------------------- redaction
class _TokensSeen:
    """Whether a record's scrub removed a token (the trust layer counts those records)."""

    found = False


def _may_need_scrub(text: str) -> bool:
    """False only when :data:`_MAY_NEED_SCRUB` finds nothing in ``text``; for an ASCII text
    (most log lines: the access line's fields, ids) told without the regex, which costs
    ten times as much. For ASCII, a case-insensitive match of these ASCII words is a
    substring of the lower-cased text, and an identifying pair needs its ``:`` or ``=``.
    A True may be a false alarm (the regex then decides); a False never is. Any other text
    (Unicode case folding: the Kelvin sign is a k) asks the regex."""
    if not text.isascii():
        return _MAY_NEED_SCRUB.search(text) is not None
    if "Patient/" in text:
        return True
    lower = text.lower()  # once, for both screens
    return ascii_may_hold_token(text, lower) or (
        (":" in text or "=" in text) and holds_any(lower, _IDENTIFYING_LOWER))


def redact(text: str, literal_ids: Iterable[str] = (), seen: _TokensSeen | None = None) -> str:
    """``text`` without tokens, patient references, identifying pairs or ``literal_ids``;
    ``seen.found`` set when a token was among them."""
    if _may_need_scrub(text):
        cleaned = redact_tokens(text)
        if seen is not None and cleaned != text:
            seen.found = True
        text = cleaned
        if _MAY_IDENTIFY.search(text):
            text = _PATIENT_REFERENCE.sub(r"\1" + REDACTED, text)
            text = _IDENTIFYING_PAIR.sub(r"\1" + REDACTED, text)
    for value in literal_ids:
        if len(value) >= _MIN_LITERAL_ID and value in text:
            text = text.replace(value, REDACTED)
    return text


def _current_patient_ids() -> tuple[str, ...]:
    if not has_request_context():
        return ()
    return tuple(g.get("log_patient_ids", ()))


def _scrub(value: Any, ids: tuple[str, ...], seen: _TokensSeen | None = None) -> Any:
    if isinstance(value, str):
        return redact(value, ids, seen)
    if isinstance(value, dict):
        return {k: REDACTED if _replaced_whole(str(k), v, seen) else _scrub(v, ids, seen)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, ids, seen) for v in value]
    return value


def _replaced_whole(key: str, value: Any, seen: _TokensSeen | None) -> bool:
    """Is ``key`` one whose value is never logged? A credential key with something in it
    also marks ``seen`` (a token was removed, though no pattern matched it)."""
    name = key.lower()
    if name not in _IDENTIFYING_KEYS:
        return False
    if seen is not None and name in _SECRET_KEYS and _holds_something(value):
        seen.found = True
    return True


def _holds_something(value: Any) -> bool:
    """Not None, and not an empty or already redacted text (no ``==`` on other objects:
    a filter must not raise on whatever a caller put in ``extra``)."""
    if isinstance(value, str):
        return value not in ("", REDACTED)
    return value is not None


class RedactionFilter(RedactingFilter):
    """Scrub a record's message, exception text, stack and ``extra`` fields in place:
    tokens, patient references, identifying pairs and keys, and the request's patient ids
    (the record walk is the trust layer's :func:`service.trust.redact.scrub_record`).

    It is the trust layer's token filter as well, in the same pass: the trust layer adds
    no second one to a handler that has it (``service.trust.init_app``), and a record
    whose token it removed is counted as that filter counts it (the tests' log guard)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _current_patient_ids()
        seen = _TokensSeen()
        scrub_record(record, lambda text: redact(text, ids, seen),
                     lambda value: _scrub(value, ids, seen), keep=_OWN_ATTRS,
                     scrub_key=lambda name: _replaced_whole(name, vars(record).get(name), seen))
        for name in _OWN_ATTRS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                cleaned = redact(value, (), seen)
                if cleaned != value:
                    setattr(record, name, cleaned)
        if seen.found:
            count_redaction()
        return True


class RequestContextFilter(logging.Filter):
    """Stamp ``request_id`` and ``hookInstance`` on every record made inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            request_g = g._get_current_object()  # one context look-up, not two
            record.request_id = request_g.get("request_id")
            hook_instance = request_g.get("hook_instance")
            if hook_instance:
                record.hookInstance = hook_instance
        return True


# ----------------------------------------------------------------------- formatting
class _OrjsonFirstFormatter(JsonFormatter):
    """python-json-logger's formatter, encoding with orjson (a fifth of the cost of an
    access line went to the standard library's encoder). A value orjson refuses (an
    integer past 64 bits, a lone surrogate, nesting past 254 levels) and a line with a
    non-ASCII character (orjson writes UTF-8; a stream in another encoding would break
    the line) go through the standard encoder instead, so that no line is lost and every
    line is ASCII, as before."""

    _fallback_default = JsonEncoder().default

    def jsonify_log_record(self, log_data: LogData) -> str:
        try:
            line = orjson.dumps(log_data, default=self._fallback_default,
                                option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().jsonify_log_record(log_data)
        if not line.isascii():  # lines stay ASCII (escapes), whatever the stream's encoding
            return super().jsonify_log_record(log_data)
        return line.decode()


def json_formatter() -> logging.Formatter:
    """The one line format of the service (and of gunicorn's own logs)."""
    return _OrjsonFirstFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
    )


def _decorate(handler: logging.Handler) -> logging.Handler:
    handler.setFormatter(json_formatter())
    for flt in (RequestContextFilter(), RedactionFilter()):  # context first, then scrub
        if not any(type(existing) is type(flt) for existing in handler.filters):
            handler.addFilter(flt)
    return handler


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice adds nothing. With a
    ``writer`` (the server's workers: :func:`write_in_background`) a filtered, formatted
    line goes to that thread instead of being written here."""

    writer: LineWriter | None = None

    def emit(self, record: logging.LogRecord) -> None:
        writer = self.writer
        if writer is None:
            super().emit(record)
            return
        try:
            writer.put(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)


def write_in_background() -> bool:
    """From now on this process's JSON log lines are written by a thread of their own
    (:mod:`service.log_writer`); False when no JSON handler is installed. Call after the
    fork (a thread does not survive it); :func:`stop_background_writing` at exit."""
    handler = next((h for h in logging.getLogger().handlers if isinstance(h, _JsonHandler)),
                   None)
    if handler is None:
        return False
    if handler.writer is None:
        writer = LineWriter(lambda: handler.stream)
        writer.start()
        handler.writer = writer
        atexit.register(stop_background_writing)
    return True


def stop_background_writing() -> None:
    """Write every line still waiting, then write on the logging thread again. The
    handler's lock is held meanwhile: a line logged during the stop waits and follows
    the waiting ones, instead of overtaking them."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _JsonHandler) and handler.writer is not None:
            handler.acquire()
            try:
                writer, handler.writer = handler.writer, None
                if writer is not None:
                    writer.stop()
            finally:
                handler.release()


def configure_logging(level: str = "INFO", stream: Any = None) -> logging.Handler:
    """Install one JSON handler on the root logger (idempotent); return it."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if isinstance(handler, _JsonHandler):
            if stream is not None:
                handler.setStream(stream)
            return handler
    handler = _decorate(_JsonHandler(stream or sys.stderr))
    root.addHandler(handler)
    return handler


try:  # gunicorn is a runtime dependency, but the app must import without it (tests, CLI)
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object  # type: ignore[assignment,misc]


class GunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's own lines (boot, worker exits, timeouts) in the same JSON format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                _decorate(handler)


# ----------------------------------------------------------------------- requests
def bind(*, hook_instance: str | None = None, patient_id: str | None = None) -> None:
    """Let the shell name the call's hookInstance and patient once it has parsed the body.
    A patient id already named (the body scan's, then the parsed body's) is kept once:
    every string of every line is searched for each id."""
    request_g = g._get_current_object()  # one context look-up, not one per attribute
    if hook_instance:
        request_g.hook_instance = hook_instance
    if patient_id:
        ids: tuple[str, ...] = request_g.get("log_patient_ids", ())
        if patient_id not in ids:
            request_g.log_patient_ids = (*ids, patient_id)


def _request_id() -> str:
    """The caller's id when sane, else 32 random hex digits. A correlation id, not a secret:
    the process's PRNG (reseeded in every forked worker) costs 2 µs, uuid4() 15 µs here."""
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if _SANE_REQUEST_ID.fullmatch(offered) else f"{random.getrandbits(128):032x}"


def _before_request() -> None:
    request_g = g._get_current_object()  # one context look-up, not two
    request_g.request_id = _request_id()
    request_g.request_started = time.perf_counter()


def request_started() -> float | None:
    """When this request began (``time.perf_counter()``), or None outside a request."""
    started: float | None = g.get("request_started")
    return started


def request_seconds(request_g: Any = None) -> float | None:
    """Seconds since this request began (the app's first ``before_request``): the one
    request clock, read by the access line, the hook latency, the request metrics and
    pages' Server-Timing. ``request_g``: the request's ``g`` when the caller has it."""
    started = (g if request_g is None else request_g).get("request_started")
    return time.perf_counter() - started if started is not None else None


def scan_body(body: bytes) -> None:
    """Name the call's hookInstance and patient from the raw body before it is parsed, so
    that even a body the shell refuses has its patient id kept out of the log lines.
    Called by the shell once it has read the body (never before the trust check: a
    malformed or unauthenticated upload is not read for the logs' sake)."""
    hook_instance = _HOOK_INSTANCE.search(body)
    patient_id = _PATIENT_ID.search(body)
    bind(
        hook_instance=hook_instance.group(1).decode("utf-8", "replace")
        if hook_instance else None,
        patient_id=patient_id.group(1).decode("utf-8", "replace") if patient_id else None,
    )


def _after_request(response: Response) -> Response:
    request_g = g._get_current_object()  # one context look-up each, not one per attribute
    current = request._get_current_object()  # type: ignore[attr-defined]
    request_id = request_g.get("request_id") or _request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    elapsed = request_seconds(request_g)
    duration_ms = round(elapsed * 1000, 2) if elapsed is not None else None
    method, path, status = current.method, current.path, response.status_code
    level = logging.DEBUG if path in _QUIET_PATHS else logging.INFO
    access = logging.getLogger(ACCESS_LOGGER)
    if access.isEnabledFor(level):  # Logger.log, without its search for the calling line
        access.handle(access.makeRecord(  # (which no line shows: the JSON has no file/line)
            access.name, level, __file__, 0, "%s %s %s", (method, path, status), None,
            func="_after_request",
            extra={"method": method, "path": path,  # path: never the query
                   "status": status, "duration_ms": duration_ms,
                   "response_bytes": response.calculate_content_length(),
                   "remote_addr": current.remote_addr}))
    return response


def init_app(app: Flask) -> None:
    """JSON logging for the process, request ids and the access line for ``app``."""
    settings = app.extensions["backpain"]["settings"]
    configure_logging(settings.log_level)
    app.before_request(_before_request)
    app.after_request(_after_request)
