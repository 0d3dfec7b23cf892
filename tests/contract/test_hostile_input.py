"""Hostile bodies get a clean 4xx OperationOutcome quickly, and the app keeps answering.

The body checks of :mod:`service.jsonbody` avoid walking the parsed tree; a property test
holds them to straightforward reference implementations on generated JSON.
"""

from __future__ import annotations

import io
import json
import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service import jsonbody
from service.errors import ServiceError
from service.jsonbody import _deeper_than, _padding, _written_within, parse_json, read_body
from tests.helpers import hook_body, make_test_app, operation_outcome, required_prefetch

SERVICE = "/cds-services/back-pain-patient-view"
MAX_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return make_test_app(max_body_bytes=MAX_BYTES, max_json_depth=64).test_client()


def good_body() -> dict[str, Any]:
    return hook_body("patient-view", prefetch=required_prefetch())


def post_raw(client: FlaskClient, data: bytes, content_type: str = "application/json",
             **kwargs: Any) -> Any:
    return client.post(SERVICE, data=data, content_type=content_type, **kwargs)


def assert_still_healthy(client: FlaskClient) -> None:
    assert client.post(SERVICE, json=good_body()).status_code == 200


def test_body_over_the_limit_is_413(client: FlaskClient) -> None:
    operation_outcome(post_raw(client, b"{" + b" " * MAX_BYTES + b"}"), 413, "too-long")
    assert_still_healthy(client)


def test_streamed_body_without_length_over_the_limit_is_413(client: FlaskClient) -> None:
    big = b'{"padding": "' + b"x" * (MAX_BYTES + 10) + b'"}'
    response = client.post(SERVICE, input_stream=io.BytesIO(big),
                           content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True})
    operation_outcome(response, 413)
    assert_still_healthy(client)


@pytest.mark.parametrize("depth", [65, 200, 253, 254, 255, 600, 1018, 1100, 50_000])
def test_deep_nesting_is_400(client: FlaskClient, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = json.dumps(good_body())[:-1] + f', "extension": {{"x": {nested}}}}}'
    issue = operation_outcome(post_raw(client, body.encode()), 400, "invalid")
    assert "nest" in issue["diagnostics"]
    assert_still_healthy(client)


def test_nesting_within_the_limit_is_accepted(client: FlaskClient) -> None:
    body = good_body()
    deep: Any = 1
    for _ in range(60):
        deep = {"d": deep}
    body["extension"] = {"org.example": deep}
    assert client.post(SERVICE, json=body).status_code == 200


def test_huge_string_in_an_id_is_400(client: FlaskClient) -> None:
    body = good_body()
    body["context"]["patientId"] = "x" * (MAX_BYTES // 2)
    issue = operation_outcome(client.post(SERVICE, json=body), 400)
    assert "x" * 100 not in issue["diagnostics"]


def test_huge_array_where_an_object_belongs_is_400(client: FlaskClient) -> None:
    body = good_body()
    body["prefetch"]["conditions"] = [0] * 50_000
    operation_outcome(client.post(SERVICE, json=body), 400)


def test_huge_selections_are_400() -> None:
    client = make_test_app(max_body_bytes=MAX_BYTES).test_client()
    body = hook_body("order-select", prefetch=required_prefetch())
    body["context"]["selections"] = [f"ServiceRequest/s{i}" for i in range(10_000)]
    operation_outcome(client.post("/cds-services/back-pain-order-select", json=body), 400)


def test_huge_ignored_extension_is_not_an_error(client: FlaskClient) -> None:
    body = good_body()
    body["extension"] = {"org.example.big": ["y" * 1000] * 200}
    assert client.post(SERVICE, json=body).status_code == 200


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/xml", "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded", "application/json; charset=latin-1",
    "application/json-patch+json",
])
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str) -> None:
    operation_outcome(post_raw(client, json.dumps(good_body()).encode(), content_type),
                      415, "not-supported")


def test_missing_content_type_is_415(client: FlaskClient) -> None:
    response = client.post(SERVICE, data=json.dumps(good_body()).encode())
    operation_outcome(response, 415)


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "application/fhir+json",
    "application/fhir+json; charset=UTF-8", "Application/JSON",
])
def test_json_content_types_are_accepted(client: FlaskClient, content_type: str) -> None:
    assert post_raw(client, json.dumps(good_body()).encode(), content_type).status_code == 200


def test_compressed_body_is_415(client: FlaskClient) -> None:
    operation_outcome(post_raw(client, b"\x1f\x8b\x08\x00", headers={"Content-Encoding": "gzip"}),
                      415)


@pytest.mark.parametrize("where", ["top", "context", "prefetch resource"])
def test_duplicate_keys_are_400(client: FlaskClient, where: str) -> None:
    text = json.dumps(good_body())
    if where == "top":
        text = text[:-1] + ', "hook": "patient-view"}'
    elif where == "context":
        text = text.replace('"patientId": "pat-1"', '"patientId": "pat-1", "patientId": "pat-2"')
    else:
        text = text.replace('"gender": "female"', '"gender": "female", "gender": "male"')
    issue = operation_outcome(post_raw(client, text.encode()), 400, "invalid")
    assert "repeats a key" in issue["diagnostics"]
    assert_still_healthy(client)


def test_duplicate_keys_are_found_when_colons_are_escaped(client: FlaskClient) -> None:
    text = json.dumps(good_body())[:-1] + ', "note": "a\\u003ab", "note": "c"}'
    operation_outcome(post_raw(client, text.encode()), 400, "invalid")


def test_colons_in_keys_and_values_are_not_duplicates(client: FlaskClient) -> None:
    body = good_body()
    body["extension"] = {"urn:example:a": "b:c:d", "urn:example:b": "http://x:8080/\\u003a"}
    assert client.post(SERVICE, json=body).status_code == 200


@pytest.mark.parametrize("data", [
    b"\xff\xfe{\x00}\x00",  # UTF-16
    '{"hook": "caf\u00e9"}'.encode("latin-1"),
    b'{"hook": "\xed\xa0\x80"}',  # an encoded surrogate
    b"\xef\xbb\xbf\xef\xbb\xbf{}",  # two byte order marks: the second is no JSON
])
def test_non_utf8_bodies_are_400(client: FlaskClient, data: bytes) -> None:
    operation_outcome(post_raw(client, data), 400, "invalid")
    assert_still_healthy(client)


def test_a_byte_order_mark_alone_is_an_empty_body(client: FlaskClient) -> None:
    issue = operation_outcome(post_raw(client, b"\xef\xbb\xbf  "), 400, "invalid")
    assert issue["diagnostics"] == "The request body is empty."


def test_a_utf8_byte_order_mark_is_skipped(client: FlaskClient) -> None:
    """RFC 8259 8.1: a parser may ignore a byte order mark; some .NET clients write one.
    Refusing it lost every card for three bytes that carry no data."""
    body = good_body()
    plain = client.post(SERVICE, json=body)
    marked = post_raw(client, b"\xef\xbb\xbf" + json.dumps(body).encode())
    assert marked.status_code == plain.status_code == 200
    assert [c["summary"] for c in marked.get_json()["cards"]] \
        == [c["summary"] for c in plain.get_json()["cards"]]


@pytest.mark.parametrize("data", [
    b"", b"   ", b"null", b"[]", b'"text"', b"42", b"{", b'{"a": NaN}', b'{"a": 1} {}',
    b"{'hook': 'x'}", b'{"a": 1e999}',
])  # a lone surrogate escape is read, not refused: test_broken_utf16.py
def test_malformed_json_is_400(client: FlaskClient, data: bytes) -> None:
    operation_outcome(post_raw(client, data), 400, "invalid")


def test_the_app_still_answers_after_everything(client: FlaskClient) -> None:
    for data in (b"\x00" * 1000, b"[" * 10_000, b'{"a":' * 5000):
        assert 400 <= post_raw(client, data).status_code < 500
    assert_still_healthy(client)


# --- the fast body checks against reference implementations

# Integers within orjson's range (64-bit; it reads larger ones as floats).
_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
            | st.text(alphabet=st.sampled_from("a:\\\"{}[]é")))
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4)
    | st.lists(st.tuples(st.text(alphabet="ab:", max_size=3), children), max_size=4),
    max_leaves=30,
)


def _render(value: Any, compact: bool = False) -> str:
    """JSON text; object members given as lists of pairs may repeat keys. ``compact``: no
    spaces, non-ASCII written as is (as orjson writes it: the byte-for-byte fast path)."""
    comma, colon = (",", ":") if compact else (", ", ": ")

    def scalar(v: Any) -> str:
        return json.dumps(v, ensure_ascii=not compact)

    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return "{" + comma.join(f"{scalar(k)}{colon}{_render(v, compact)}"
                                for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + comma.join(_render(v, compact) for v in value) + "]"
    return scalar(value)


def _reference_duplicates(text: str) -> bool:
    found = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({k for k, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return found


def _reference_depth(value: Any) -> int:
    """Nesting of non-empty containers (an empty one at the bottom adds no level)."""
    if isinstance(value, dict) and value:
        return 1 + max(_reference_depth(v) for v in value.values())
    if isinstance(value, list) and value:
        return 1 + max(_reference_depth(v) for v in value)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=json_values, max_depth=st.integers(min_value=0, max_value=6),
       escape_colons=st.booleans(), compact=st.booleans())
def test_fast_checks_agree_with_the_reference(value: Any, max_depth: int,
                                              escape_colons: bool, compact: bool) -> None:
    text = _render(value, compact)
    if escape_colons:
        text = text.replace(":", "\\u003a").replace('"\\u003a ', '": ').replace(
            "\\u003a ", ": ")
        if compact:  # the separators follow a key's closing quote, no space
            text = text.replace('"\\u003a', '":')
        try:
            json.loads(text)
        except ValueError:
            return
    raw = text.encode()
    parsed = json.loads(text)
    expected_error = None
    if _reference_depth(parsed) > max_depth:
        expected_error = "nested"
    elif _reference_duplicates(text):
        expected_error = "repeats a key"
    try:
        assert parse_json(raw, max_depth) == parsed
        assert expected_error is None
    except ServiceError as error:
        assert error.status == 400
        assert expected_error is not None and expected_error in error.diagnostics


@pytest.mark.parametrize("compact", [True, False])
def test_depth_at_the_limit_of_the_fast_path(compact: bool) -> None:
    """The wrapping makes orjson refuse a body one container deeper than the limit; an
    empty container at that level is no level at all (the exact check then says so)."""
    def body(depth: int, bottom: str) -> bytes:
        text = '{"a":' * depth + bottom + "}" * depth
        return (text if compact else text.replace(":", ": ")).encode()

    assert parse_json(body(64, "1"), 64) is not None
    at_the_limit = orjson.loads(body(64, "1"))  # decided by the fast path, not the walk
    assert _written_within(at_the_limit, _padding(64) or 0) is not None
    assert parse_json(body(64, "[]"), 64) is not None
    assert parse_json(body(64, "{}"), 64) is not None
    for bottom in ("[1]", '{"b":1}'):
        with pytest.raises(ServiceError, match="nested deeper than 64"):
            parse_json(body(64, bottom), 64)
    with pytest.raises(ServiceError, match="repeats a key"):
        parse_json(body(63, '{"b":1,"b":2}'), 64)


def _wrapped_bodies() -> list[tuple[bytes, int]]:
    """Bodies that are themselves wrapped in one-element lists (as the check wraps them),
    around a scalar, an empty or a non-empty container, or a repeated key, compact and
    not, each with limits below, at and above its depth, the default's and orjson's."""
    bodies = []
    for depth in (1, 2, 63, 64, 65, 189, 190, 253, 254, 255):
        for bottom in ("1", "[]", "{}", '{"a":1}', '{"a":1,"a":2}', '{"a:b":"c:d"}'):
            text = "[" * depth + bottom + "]" * depth
            for raw in (text.encode(), text.replace(",", ", ").replace(":", ": ").encode()):
                bodies += [(raw, limit) for limit in (0, 1, depth - 1, depth, 64, 254, 300)
                           if limit >= 0]
    return bodies


def _outcome(raw: bytes, max_depth: int) -> tuple[str, Any]:
    try:
        return "ok", parse_json(raw, max_depth)
    except ServiceError as error:
        return str(error.status), error.diagnostics


def _expected(raw: bytes, max_depth: int) -> tuple[str, Any]:
    text = raw.decode()
    parsed = json.loads(text)
    if _reference_depth(parsed) > max_depth:
        return "400", f"JSON nested deeper than {max_depth} levels."
    if _reference_duplicates(text):
        return "400", "A JSON object in the body repeats a key."
    return "ok", parsed


def _holds_nothing() -> bool:
    """This thread's reused wrapping lists hold no body between calls."""
    return all(innermost[0] is None for _, innermost in jsonbody._WRAPPINGS.chains.values())


def test_wrapped_bodies_agree_with_the_reference_one_thread_after_another() -> None:
    bodies = _wrapped_bodies()
    for raw, limit in bodies:
        assert _outcome(raw, limit) == _expected(raw, limit), (raw[:80], limit)
        assert _holds_nothing()
    assert len(jsonbody._WRAPPINGS.chains) > 3  # several limits: a chain for each


def test_wrapped_bodies_agree_with_the_reference_threads_side_by_side() -> None:
    """Each thread has lists of its own: eight threads parsing different bodies at the same
    time (an orjson call lets no other thread in, but threads switch between the steps)
    all get the reference's answers, and no thread's lists keep a body."""
    bodies = _wrapped_bodies()
    expected = {(raw, limit): _expected(raw, limit) for raw, limit in bodies}
    work = bodies * 4
    random.Random(7).shuffle(work)
    start = threading.Barrier(8)

    def run(chunk: list[tuple[bytes, int]]) -> tuple[list[bool], list[Any]]:
        start.wait()
        answers = [_outcome(raw, limit) == expected[(raw, limit)] for raw, limit in chunk]
        return [*answers, _holds_nothing()], jsonbody._wrapping(_padding(64) or 1)[0]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as the interpreter lets them
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(run, [work[i::8] for i in range(8)]))
    finally:
        sys.setswitchinterval(interval)
    assert all(all(answers) for answers, _ in results)
    assert len({id(outermost) for _, outermost in results}) == 8  # lists of its own each


def test_past_what_orjson_writes_the_exact_checks_decide() -> None:
    """orjson reads 1024 levels but writes 254: with a limit above that the exact checks
    run instead of the fast path, and still tell depth and repeated keys apart."""
    nested = "[" * 300 + "]" * 300
    assert parse_json(f'{{"a": 1, "x": {nested}}}'.encode(), 1000)["a"] == 1
    with pytest.raises(ServiceError, match="repeats a key"):
        parse_json(f'{{"a": 1, "x": {nested}, "a": 2}}'.encode(), 1000)
    with pytest.raises(ServiceError, match="nested"):
        parse_json(f'{{"x": {nested}}}'.encode(), 299)
    # deeper than Python's own parser recurses: refused as too deep (400), whatever the limit
    with pytest.raises(ServiceError, match="nested"):
        parse_json(("[" * 1000 + "]" * 1000).encode(), 1100)


@settings(max_examples=200, deadline=None)
@given(value=json_values, max_depth=st.integers(min_value=0, max_value=6))
def test_the_exact_depth_check_agrees_with_the_reference(value: Any, max_depth: int) -> None:
    parsed = json.loads(_render(value))
    if isinstance(parsed, dict | list):
        assert _deeper_than(parsed, max_depth) == (_reference_depth(parsed) > max_depth)


def _as_read(read: Any, data: bytes, declared: int | None, terminated: bool) -> Any:
    """What ``read(request)`` gives for ``data`` sent with Content-Length ``declared``
    (None: none), by a server that terminates the stream (gunicorn) or not: the bytes,
    or the type and status of what it raised."""
    app = make_test_app()
    environ: dict[str, Any] = {"wsgi.input_terminated": True} if terminated else {}
    with app.test_request_context(SERVICE, method="POST", input_stream=io.BytesIO(data),
                                  content_type="application/json",
                                  content_length=declared, environ_base=environ):
        from flask import request
        try:
            return read(request)
        except Exception as exc:  # the type (and status) is what is compared
            return type(exc), getattr(exc, "code", None) or getattr(exc, "status", None)


@pytest.mark.parametrize("terminated", [False, True])
@pytest.mark.parametrize(("size", "declared"), [
    (0, 0), (10, 10), (65_536, 65_536), (200_001, 200_001),  # whole bodies, across chunks
    (200_001, 300_000), (10, 11),  # shorter than declared: the client went away
    (200_001, 100_000),  # longer than declared: only the declared part is the body
    (MAX_BYTES + 1, MAX_BYTES + 1),  # declared past the limit
])
def test_the_body_is_read_as_werkzeug_reads_it(size: int, declared: int,
                                               terminated: bool) -> None:
    """read_body reads a declared length in one call (no 64 KiB chunks copied over) and
    gives what Werkzeug's get_data() gives, bytes or error, whatever the server."""
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    expected = _as_read(lambda request: request.get_data(), data, declared, terminated)
    assert _as_read(read_body, data, declared, terminated) == expected
