"""Last line of defence: nothing that looks like a JWT, a bearer token or an access token
reaches a log, whoever logs it.

:func:`install` wraps the logging module's record factory, so every record created in the
process, by any logger and for any handler (including ones configured later), has its
message, exception text, stack and string ``extra`` fields scrubbed before a formatter sees
them. :class:`RedactingFilter` does the same as a handler filter, for log configurations
that build their own handlers.

The code of this service never logs tokens in the first place (the tests check that with
this safety net switched off); the net catches what a library or a future change might.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # a JWS/JWT in compact form: base64url('{"...') . base64url(...) . signature
    (re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"), REDACTED),
    # an Authorization header or field, whatever its scheme
    (re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)"
                r"(?:(?:bearer|basic|digest|token)\s+)?"
                r"(?!\[REDACTED\]|(?:bearer|basic|digest|token)\b)[^\s\"',;}&]+"),
     r"\1" + REDACTED),
    # "Bearer <token>" anywhere
    (re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED\])[A-Za-z0-9\-._~+/]+=*"), r"\1 " + REDACTED),
    # OAuth token fields in JSON, query strings or reprs
    (re.compile(r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret)[\"']?"
                r"\s*[:=]\s*[\"']?)[^\s\"',;}&]+"), r"\1" + REDACTED),
)

# What every pattern above needs to match (the same words, the same case rules): a text
# without any of them is returned as it is after one scan instead of four. Every log line
# goes through here up to three times (record factory, filter, the service's own filter).
TOKEN_WORDS = ("authorization", "bearer", "access_token", "refresh_token", "id_token",
               "client_secret")
MAY_HOLD_TOKEN = re.compile(f"eyJ|(?i:{'|'.join(TOKEN_WORDS)})")

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message", "asctime",
}


def may_hold_token(text: str) -> bool:
    """Whether :data:`MAY_HOLD_TOKEN` finds something in ``text``: the same answer, for an
    ASCII text (most log lines) without the regex, which costs ten times as much on one
    (a case-insensitive alternation tried at every position). For ASCII, a
    case-insensitive match of these ASCII words is a substring of the lower-cased text;
    any other text (Unicode case folding: the Kelvin sign is a k) asks the regex."""
    if not text.isascii():
        return MAY_HOLD_TOKEN.search(text) is not None
    return ascii_may_hold_token(text, text.lower())


def ascii_may_hold_token(text: str, lower: str) -> bool:
    """:func:`may_hold_token` of an ASCII ``text`` whose lower-cased form is ``lower`` (for
    a caller that has lower-cased it already)."""
    return "eyJ" in text or holds_any(lower, TOKEN_WORDS)


def holds_any(lower: str, words: Iterable[str]) -> bool:
    """Does the lower-cased ``lower`` hold one of ``words`` (substrings)?"""
    for word in words:  # noqa: SIM110 (any() of a generator: twice the cost)
        if word in lower:
            return True
    return False


def redact(text: str) -> str:
    """``text`` with every token-like substring replaced by ``[REDACTED]``."""
    if not may_hold_token(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_redactions = 0


def redaction_count() -> int:
    """How many records had to be scrubbed so far (the tests' log guard watches it)."""
    return _redactions


def count_redaction() -> None:
    """One more record had a token scrubbed (by this module or a filter that does its
    work, such as the service's log filter)."""
    global _redactions
    _redactions += 1


def redact_record(record: logging.LogRecord) -> None:
    """Scrub a record's tokens in place (message, exception, stack, string extras)."""
    if scrub_record(record, redact, _redact_extra):
        count_redaction()


def _redact_extra(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def scrub_record(record: logging.LogRecord, text: Callable[[str], str],
                 extra: Callable[[Any], Any], *,
                 keep: frozenset[str] = frozenset(),
                 scrub_key: Callable[[str], bool] = lambda name: False) -> bool:
    """Scrub ``record`` in place: its message, exception text and stack through ``text``,
    its ``extra`` fields (not logging's own, not ``keep``) through ``extra``, or replaced
    whole when ``scrub_key(name)``. Only what changes is rewritten (a formatted message
    then loses its args; an exception becomes its scrubbed text, since a JSON formatter
    would format ``exc_info`` again). True if anything changed. Both the process-wide
    token net (here) and the service's log filter (:mod:`service.logs`) use it."""
    changed = False
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: scrub the template as it stands
        message = str(record.msg)
        record.msg, record.args = message, None  # (not a redaction by itself)
    cleaned = text(message)
    if cleaned != message:
        record.msg, record.args, changed = cleaned, None, True
    if record.exc_info and record.exc_info[0] is not None:
        formatted = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
        cleaned = text(formatted)
        if cleaned != formatted:
            record.exc_info, record.exc_text, changed = None, cleaned.rstrip("\n"), True
    elif record.exc_text:
        cleaned = text(record.exc_text)
        if cleaned != record.exc_text:
            record.exc_text, changed = cleaned, True
    if record.stack_info:
        cleaned = text(record.stack_info)
        if cleaned != record.stack_info:
            record.stack_info, changed = cleaned, True
    attributes = vars(record)
    # logging's own attributes (two dozen, none an extra) left out in one set operation;
    # each extra is scrubbed on its own, so the order they are visited in does not matter
    for name in attributes.keys() - _STANDARD_ATTRS - frozenset(keep):
        value = attributes[name]
        cleaned = REDACTED if scrub_key(name) else extra(value)
        if cleaned is not value and cleaned != value:
            setattr(record, name, cleaned)
            changed = True
    return changed


class RedactingFilter(logging.Filter):
    """A handler/logger filter that scrubs records and lets them through."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_MARK = "_backpain_redacting"


def install() -> None:
    """Wrap the process's log-record factory once (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    setattr(factory, _MARK, True)
    factory.wrapped = current  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def uninstall() -> None:
    """Undo :func:`install` (tests that check the code itself logs nothing secret)."""
    current = logging.getLogRecordFactory()
    while getattr(current, _MARK, False):
        current = current.wrapped  # type: ignore[attr-defined]
    logging.setLogRecordFactory(current)


def installed() -> bool:
    return bool(getattr(logging.getLogRecordFactory(), _MARK, False))
