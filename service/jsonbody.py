"""JSON in and out: read a request body safely, write a response body.

The body is parsed once with orjson, which is strict (valid UTF-8 only, no NaN, nesting
bounded at 1024; a lone surrogate escape and a byte order mark, which it refuses, are read
as the end of this note says). Two things orjson does not check are done here without
walking the parsed tree in Python, because this runs on every hook call with bodies of up
to megabytes and the benchmarks count every millisecond against orjson's own:

- **nesting depth** (``max_json_depth``) and **duplicate object keys** (orjson silently
  keeps the last). Fast path: orjson re-serialises the value once, compactly, wrapped in
  ``L - max`` one-element lists, where ``L`` is the deepest nesting orjson writes (254,
  probed at import). orjson refuses to write past ``L``, so it writes the wrapped value
  only when the body nests at most ``max`` containers deep (counting empty ones; an empty
  ``[]``/``{}`` at the bottom adds no level to the limit, so a refusal sends the body to
  the exact check). Re-serialising keeps every member that survived parsing: when the
  text between the wrapping brackets is the body itself, byte for byte (a compact body,
  as most clients send), no member was lost. Otherwise every ``:`` of a JSON text is a
  member separator or a literal character inside a string, re-serialising writes every
  string character literally, so the colon count drops exactly when members were lost to
  duplicates (unless the body spelt a colon as ``\\u003a``).
- The fast path is an optimisation, never a condition of an answer: when orjson refuses
  the wrapped value (nested past the wrapping's room, or a value it does not write) the
  exact checks run instead: a walk over the containers (depth, stopping at ``max + 1``)
  and the standard library's parser with a pairs hook (duplicates); a body that spelt a
  colon ``\\u003a`` gets the exact duplicate check. A limit at or past ``L`` needs no
  wrapping: whatever orjson writes is within it. Neither exact check can raise on a value
  orjson has parsed, so a body is answered 400, never 500.

A **lone UTF-16 surrogate escape** (``"\\ud800"`` with no low half after it, or a low half
alone) is allowed by RFC 8259's grammar (section 8.2) and written by EHRs that cut text at
a fixed number of UTF-16 units through an emoji; orjson refuses it. Refusing the call
would lose every card, the critical ones included, for one unreadable character in a
note, so such an escape is read as U+FFFD (the replacement character) and counted: the
hook call says so in every card's data gaps (:func:`cds_rules.mended_text_gap`). Only a
body orjson refused is searched for them, so a well-formed body pays nothing.

A leading **UTF-8 byte order mark** (EF BB BF, written by some .NET and Windows clients)
is skipped: RFC 8259 section 8.1 lets a parser ignore it "in the interests of
interoperability", and it carries no data, while refusing it would lose every card.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import IO, Any

import orjson
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from service import logs
from service.errors import ServiceError

try:  # gunicorn raises these from the body stream; the app also runs without gunicorn
    from gunicorn.http.errors import ParseException as _TransportError
except ImportError:  # pragma: no cover
    class _TransportError(Exception):  # type: ignore[no-redef]
        pass

JSON_MEDIA_TYPES = frozenset({"application/json", "application/fhir+json"})
_UTF8 = frozenset({"utf-8", "utf8"})


def json_response(body: Any, status: int = 200) -> Response:
    """``body`` serialised with orjson as ``application/json``."""
    return json_bytes_response(orjson.dumps(body), status)


def json_bytes_response(body: bytes, status: int = 200) -> Response:
    """``body``, JSON already serialised, as ``application/json``."""
    return Response(body, status=status, mimetype="application/json")


@dataclass(frozen=True, slots=True)
class JsonBody:
    """A request body read as a JSON object; ``mended``: lone UTF-16 surrogate escapes
    read as U+FFFD (the module docstring says why)."""

    value: dict[str, Any]
    mended: int = 0


def read_json_object(request: Request, max_bytes: int, max_depth: int) -> dict[str, Any]:
    """The request body as a JSON object, or a :class:`ServiceError` (400/413/415)."""
    return read_json_body(request, max_bytes, max_depth).value


def read_json_body(request: Request, max_bytes: int, max_depth: int) -> JsonBody:
    """:func:`read_json_object`, saying how many lone surrogate escapes were mended."""
    check_content_type(request)
    if request.content_length is not None and request.content_length > max_bytes:
        raise ServiceError(413, f"Request body larger than {max_bytes} bytes.")
    raw = read_body(request)
    if len(raw) > max_bytes or (len(raw) == max_bytes and _more_follows(request)):
        raise ServiceError(413, f"Request body larger than {max_bytes} bytes.")
    logs.scan_body(raw)
    value, mended = parse_json_mending(raw, max_depth)
    if not isinstance(value, dict):
        raise ServiceError(400, "The request body must be a JSON object.")
    return JsonBody(value, mended)


class BodyReadError(ServiceError):
    """The transport could not deliver the body (bad chunking, a body shorter than its
    Content-Length): 400 (the server then closes the connection: its framing is lost)."""

    def __init__(self) -> None:
        super().__init__(400, "The request body could not be read (malformed chunked "
                              "encoding or Content-Length).")


def read_body(request: Request) -> bytes:
    """The raw body; :class:`BodyReadError` when the transport fails mid-body (gunicorn
    raises its own parse errors from the body stream, not Werkzeug's HTTP errors)."""
    try:
        length = request.content_length
        if not length:  # chunked (or empty): Werkzeug reads it to the end
            return request.get_data()  # Werkzeug raises 413 past MAX_CONTENT_LENGTH
        return _read_declared(request.stream, length)
    except HTTPException:
        raise
    except (_TransportError, OSError, ValueError) as exc:
        raise BodyReadError() from exc


def _read_declared(stream: IO[bytes], length: int) -> bytes:
    """What ``get_data()`` returns, from Werkzeug's same guarded stream (its limits and
    errors as before), with the declared ``length`` read in one call: ``get_data()``
    reads 64 KiB at a time and copies the body four times over (chunk, bytes, growing
    buffer, result). The read to the end that follows finds nothing on a whole body."""
    body = stream.read(length)
    rest = stream.read()  # b"" when whole; a short body: Werkzeug's disconnect error
    return body + rest if rest else body


def _more_follows(request: Request) -> bool:
    """A body without Content-Length (chunked) is cut at the limit by Werkzeug without a
    word: is there more behind it (then it is too large, not malformed)?"""
    if request.content_length is not None:
        return False
    try:
        return bool(request.environ["wsgi.input"].read(1))
    except Exception:  # nothing more can be read: the body was exactly the limit
        return False


def check_content_type(request: Request) -> None:
    """415 unless the body is declared JSON in UTF-8 and not compressed."""
    if request.mimetype not in JSON_MEDIA_TYPES:
        raise ServiceError(415, "Content-Type must be application/json "
                                "(or application/fhir+json).")
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.strip().lower() not in _UTF8:
        raise ServiceError(415, "The request body must be encoded as UTF-8.")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ServiceError(415, "Compressed request bodies are not accepted.")


def parse_json(raw: bytes, max_depth: int) -> Any:
    """Parse ``raw`` strictly; 400 for invalid UTF-8 or JSON, depth, or duplicate keys.

    Cost beyond ``orjson.loads`` (fast path): one compact re-serialisation and one
    comparison with the body (C loops over the buffers, no Python per value); two byte
    counts when the body was not written compactly.
    """
    return parse_json_mending(raw, max_depth)[0]


def parse_json_mending(raw: bytes, max_depth: int) -> tuple[Any, int]:
    """:func:`parse_json`, with lone surrogate escapes read as U+FFFD: (value, how many)."""
    try:
        value, parsed, mended = _loads_mending(raw)
    except orjson.JSONDecodeError as exc:
        if not raw.removeprefix(_BOM).strip():
            raise ServiceError(400, "The request body is empty.") from None
        raise ServiceError(400, _decode_problem(raw, exc)) from None
    return _checked(value, parsed, max_depth), mended


def _checked(value: Any, raw: bytes | bytearray, max_depth: int) -> Any:
    """``value`` parsed from ``raw``, or 400 for its depth or a repeated key."""
    if not isinstance(value, dict | list):
        return value
    padding = _padding(max_depth)
    written = _written_within(value, padding) if padding is not None else None
    if padding is None or written is None:  # maybe too deep, or not writable: exact checks
        too_deep = _deeper_than(value, max_depth)
        duplicates = not too_deep and _has_duplicate_keys_exact(raw)
    else:
        too_deep = False
        duplicates = not _is_the_body(written, raw, padding) \
            and _has_duplicate_keys(raw, written)
    if too_deep:
        raise ServiceError(400, f"JSON nested deeper than {max_depth} levels.")
    if duplicates:
        raise ServiceError(400, "A JSON object in the body repeats a key.")
    return value


# A surrogate escape, high (group 1) or low, after a whole run of backslashes in pairs
# (each an escaped backslash; the lookbehind starts the run at its first backslash, and the
# possessive pairs never give one back): so its own backslash is an escape's, and
# "\\\\ud800" (an escaped backslash, then letters) is none. Linear on any body.
_SURROGATE_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*+\\u(?:([dD][89aAbB])|[dD][c-fC-F])[0-9a-fA-F]{2}")
_LOW_ESCAPE = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_REPLACEMENT = rb"\ufffd"  # six bytes, as the escape it replaces
_BOM = b"\xef\xbb\xbf"  # U+FEFF in UTF-8


def loads_mending(raw: bytes | bytearray) -> tuple[Any, int]:
    """``orjson.loads(raw)``, except that lone UTF-16 surrogate escapes are read as U+FFFD:
    (value, how many were). Raises ``orjson.JSONDecodeError`` as orjson does otherwise."""
    value, _, mended = _loads_mending(raw)
    return value, mended


def _loads_mending(raw: bytes | bytearray) -> tuple[Any, bytes | bytearray, int]:
    """(value, the text it was parsed from, how many escapes were mended). A mended
    escape keeps its length (six bytes), so an error's position is the sent text's
    (after a byte order mark, which is skipped)."""
    if raw[:3] == _BOM:
        raw = raw[3:]
    try:
        return orjson.loads(raw), raw, 0
    except orjson.JSONDecodeError as refused:
        if "surrogate" not in str(refused):  # orjson names a surrogate it refuses
            raise
        mended, count = mend_lone_surrogates(bytes(raw))
        if not count:
            raise
    return orjson.loads(mended), mended, count


def mend_lone_surrogates(raw: bytes) -> tuple[bytes, int]:
    """``raw`` with every lone surrogate escape written ``\\ufffd``; how many there were.
    Pairs, other escapes and everything outside escapes are left byte for byte. One pass
    of the regex over the body, and a Python step per surrogate escape, written in place
    in a copy (an escape and U+FFFD's are both six bytes): no fragments of the body."""
    mended: bytearray | None = None
    count = 0
    pair_low = -1  # the start of the low half of the last pair read
    for match in _SURROGATE_ESCAPE.finditer(raw):
        start = match.end() - 6  # the escape itself, after the escaped backslashes
        if start == pair_low:
            continue
        if match.group(1) is not None and _LOW_ESCAPE.match(raw, start + 6):
            pair_low = start + 6  # a high half with its low half: one character
            continue
        if mended is None:
            mended = bytearray(raw)
        mended[start:start + 6] = _REPLACEMENT
        count += 1
    return (bytes(mended), count) if mended is not None else (raw, 0)


def _deepest_orjson_writes() -> int | None:
    """How many container levels orjson writes before refusing (254 in orjson 3), found by
    trying; None when it wrote 4096 (then the depth check cannot lean on it)."""
    def writes(depth: int) -> bool:
        value: Any = 0
        for _ in range(depth):
            value = [value]
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            return False
        return True

    if writes(4096):
        return None
    low, high = 0, 4096  # writes(low), not writes(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if writes(middle) else (low, middle)
    return low


_ORJSON_WRITES = _deepest_orjson_writes()


def _padding(max_depth: int) -> int | None:
    """Levels to wrap the value in so that orjson refuses exactly the bodies deeper than
    ``max_depth`` (counting empty containers); 0 for a limit at or past orjson's (what it
    writes is within the limit); None when orjson has no limit to lean on."""
    if _ORJSON_WRITES is None:
        return None
    return max(0, _ORJSON_WRITES - max_depth)


class _Wrappings(threading.local):
    """Per thread, per padding: the outermost and the innermost of ``padding`` nested
    one-element lists, built once (190 lists a call at the default limit, otherwise), the
    innermost's one slot empty between calls. Per thread: a gthread worker's calls parse
    side by side."""

    def __init__(self) -> None:
        self.chains: dict[int, tuple[list[Any], list[Any]]] = {}


_WRAPPINGS = _Wrappings()


def _wrapping(padding: int) -> tuple[list[Any], list[Any]]:
    """This thread's ``padding`` (>= 1) nested lists: (outermost, innermost)."""
    chains = _WRAPPINGS.chains
    chain = chains.get(padding)
    if chain is None:
        innermost: list[Any] = [None]
        outermost = innermost
        for _ in range(padding - 1):
            outermost = [outermost]
        chain = chains[padding] = (outermost, innermost)
    return chain


def _written_within(value: dict[str, Any] | list[Any], padding: int) -> bytes | None:
    """``value`` written compactly inside ``padding`` one-element lists, or None when
    orjson refuses (too deep for the padding, or a value it does not write). The lists are
    this thread's own, reused; the value is out of them again when this returns."""
    if padding == 0:
        outermost: Any = value
        innermost: list[Any] | None = None
    else:
        outermost, innermost = _wrapping(padding)
        innermost[0] = value
    try:
        return orjson.dumps(outermost)
    except orjson.JSONEncodeError:
        return None
    finally:
        if innermost is not None:
            innermost[0] = None  # the body is not kept alive by the wrapping


def _is_the_body(written: bytes, raw: bytes | bytearray, padding: int) -> bool:
    """Is the text inside the wrapping the body itself, byte for byte? (memcmp, no copy)"""
    return len(written) == len(raw) + 2 * padding and written.startswith(raw, padding)


def _deeper_than(value: dict[str, Any] | list[Any], max_depth: int) -> bool:
    """Does a non-empty container sit deeper than ``max_depth``? Level by level, without
    recursion, stopping at the first level past the limit."""
    level: list[Any] = [value] if value else []  # the non-empty containers one level down
    for _ in range(max_depth):
        children: list[Any] = []
        for node in level:
            members = node.values() if isinstance(node, dict) else node
            children += [c for c in members if isinstance(c, dict | list) and c]
        if not children:
            return False
        level = children
    return bool(level)


def _has_duplicate_keys(raw: bytes | bytearray, reserialised: bytes) -> bool:
    """Colons counted in the body and in its re-serialisation (the wrapping adds none)."""
    if b"\\u003" in raw and (b"\\u003a" in raw or b"\\u003A" in raw):
        return _has_duplicate_keys_exact(raw)
    return raw.count(b":") != reserialised.count(b":")


def _has_duplicate_keys_exact(raw: bytes | bytearray) -> bool:
    found = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        obj = dict(pairs)
        found = found or len(obj) != len(pairs)
        return obj

    # orjson accepted the text, so this cannot fail but by recursing deeper than Python
    # allows (orjson reads 1024 levels); numbers are left as text (no cost).
    try:
        json.loads(raw.decode("utf-8"), object_pairs_hook=pairs_hook,
                   parse_int=str, parse_float=str, parse_constant=str)
    except RecursionError:
        raise ServiceError(400, "JSON nested too deeply.") from None
    return found


def _decode_problem(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "The request body is not valid UTF-8."
    if "depth" in str(exc) or "recursion" in str(exc):
        return "JSON nested too deeply."
    # orjson's message says what and where (line, column); it never quotes the input.
    return f"The request body is not valid JSON: {exc}"
