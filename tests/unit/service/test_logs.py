"""Structured logs: JSON lines, correlated by request id and hookInstance, and clean.

The service's own JSON handler is pointed at a buffer; a real hook call through the app
(and deliberate attempts to log secrets and identifiers) must come out as JSON lines that
carry the ids and hold no token and no patient identifier.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, request

from service import logs
from service.jsonbody import read_json_object
from service.log_writer import GATHER_SECONDS, LineWriter
from service.trust import redact as trust
from tests.helpers import make_test_app
from tests.ops_support import card_pairs, pick_scenario, shifted_request_body

JWT = ("eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2VocmV4YW1wbGUifQ."
       "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg")


@pytest.fixture
def app() -> Flask:
    return make_test_app()


@pytest.fixture
def buffer(app: Flask) -> Iterator[io.StringIO]:
    """The JSON handler's output, for one test (the handler itself is the real one)."""
    stream = io.StringIO()
    level = logging.getLogger().level
    handler = logs.configure_logging("DEBUG", stream=stream)
    try:
        yield stream
    finally:
        handler.setStream(sys.stderr)  # type: ignore[attr-defined]
        logging.getLogger().setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_hook_call_logs_json_lines_with_request_id_and_hook_instance(
    app: Flask, buffer: io.StringIO
) -> None:
    scenario = pick_scenario()
    body = shifted_request_body(scenario, datetime.now(UTC))
    answer = app.test_client().post(f"/cds-services/back-pain-{scenario.hook}", json=body,
                                    headers={"X-Request-ID": "ehr-req-0042"})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert card_pairs(answer.get_json()["cards"]) == set(scenario.expected)
    assert answer.headers["X-Request-ID"] == "ehr-req-0042"

    lines = records(buffer)  # every line parses as JSON
    mine = [r for r in lines if r.get("request_id") == "ehr-req-0042"]
    assert mine, "no line carries the request id"
    assert all(r["hookInstance"] == body["hookInstance"] for r in mine)
    access = [r for r in mine if r["logger"] == logs.ACCESS_LOGGER]
    assert len(access) == 1
    assert access[0]["status"] == 200
    assert access[0]["path"] == f"/cds-services/back-pain-{scenario.hook}"
    assert {"timestamp", "level", "message"} <= access[0].keys()
    assert scenario.patient_id not in buffer.getvalue()


def test_access_line_never_has_the_query_string(app: Flask, buffer: io.StringIO) -> None:
    app.test_client().get("/cds-services?patient=pat-77231&code=secret-value")
    access = [r for r in records(buffer) if r["logger"] == logs.ACCESS_LOGGER]
    assert access[0]["path"] == "/cds-services"
    assert access[0]["method"] == "GET" and access[0]["status"] == 200
    assert isinstance(access[0]["duration_ms"], float) and 0 < access[0]["duration_ms"] < 60_000
    assert "pat-77231" not in buffer.getvalue() and "secret-value" not in buffer.getvalue()


@pytest.mark.logs_secrets  # on purpose: the redaction is what is tested
def test_tokens_and_patient_identifiers_are_redacted_wherever_they_appear(
    app: Flask, buffer: io.StringIO
) -> None:
    patient_id = "pt-93817-x"
    body = {"hook": "patient-view", "hookInstance": "b3f0c2de-1111-4222-8333-944445555666",
            "context": {"patientId": patient_id, "userId": "Practitioner/9"}}
    log = logging.getLogger("service.test_redaction")
    with app.test_request_context("/cds-services/back-pain-patient-view", method="POST",
                                  json=body, headers={"Authorization": f"Bearer {JWT}"}):
        app.preprocess_request()  # the before-request hooks: request id
        read_json_object(request, 1 << 20, 64)  # the shell reads the body: hookInstance, id
        log.warning("fetch Patient/%s with Authorization: Bearer %s", patient_id, JWT)
        log.info("no data for %s", patient_id)
        log.info("prefetch {'patient': '%s', 'access_token': '%s'}", patient_id, "at-5521973")
        log.info("extras", extra={"patientId": patient_id,
                                  "query": {"subject": f"Patient/{patient_id}", "n": 3}})
        try:
            raise ValueError(f"bad Observation for subject={patient_id} token {JWT}")
        except ValueError:
            log.exception("evaluation failed")
    text = buffer.getvalue()
    lines = records(buffer)
    assert len(lines) == 5
    assert patient_id not in text
    assert JWT not in text and "at-5521973" not in text
    assert all(r["request_id"] and r["hookInstance"] == body["hookInstance"] for r in lines)
    assert "[REDACTED]" in lines[0]["message"] and "Patient/" in lines[0]["message"]
    assert lines[3]["patientId"] == "[REDACTED]" and lines[3]["query"]["n"] == 3
    assert "ValueError" in lines[4]["exc_info"]


@pytest.mark.logs_secrets  # on purpose: the counting of a scrubbed token is tested
def test_the_json_handler_scrubs_tokens_once_and_counts_them(app: Flask,
                                                             buffer: io.StringIO) -> None:
    """The service's filter is the trust layer's token filter too: the trust layer adds no
    second pass to its handler, and a token it scrubs from an ``extra`` field (which the
    record factory never sees) is counted, so that the tests' log guard notices it."""
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, logs._JsonHandler)]
    token_filters = [f for f in handler.filters if isinstance(f, trust.RedactingFilter)]
    assert [type(f) for f in token_filters] == [logs.RedactionFilter]
    logging.getLogger("service.test_count").info("ok", extra={"detail": f"Bearer {JWT}"})
    assert records(buffer)[-1]["detail"] == "Bearer [REDACTED]"
    assert JWT not in buffer.getvalue()

    def filtered(detail: str) -> tuple[logging.LogRecord, int]:
        record = logging.LogRecord("service.test_count", logging.INFO, __file__, 1, "ok",
                                   None, None)
        record.detail = detail
        before = trust.redaction_count()
        assert logs.RedactionFilter().filter(record)
        return record, trust.redaction_count() - before

    token, counted = filtered(f"Bearer {JWT}")
    assert (token.detail, counted) == ("Bearer [REDACTED]", 1)  # type: ignore[attr-defined]
    identifier, counted = filtered("Patient/77")  # an identifier is not a token
    assert (identifier.detail, counted) == ("Patient/[REDACTED]", 0)  # type: ignore[attr-defined]


@pytest.mark.logs_secrets  # on purpose: the counting of a credential key is tested
@pytest.mark.parametrize(("name", "value", "counted"), [
    ("token", "opaque-session-value", 1),  # no token pattern matches: the key says it
    ("Authorization", "Basic dXNlcjpwYXNz", 1),
    ("fhirAuthorization", {"access_token": "x", "scope": "patient/*.read"}, 1),
    ("request", {"headers": {"authorization": "opaque"}}, 1),  # nested
    ("token", "", 0),  # nothing in it
    ("token", {"opaque": 1}, 1),  # not a text, but something: counted
    ("patient_id", "77", 0),  # replaced whole too, but an identifier is not a token
])
def test_a_credential_key_replaced_whole_is_counted(name: str, value: object,
                                                   counted: int) -> None:
    """An ``extra`` field named as a credential is replaced whole, and counted like a token
    a pattern removed, so that the tests' log guard names the code that logged it."""
    record = logging.LogRecord("service.test_count", logging.INFO, __file__, 1, "ok",
                               None, None)
    setattr(record, name, value)
    before = trust.redaction_count()
    assert logs.RedactionFilter().filter(record)
    assert trust.redaction_count() - before == counted
    assert "opaque" not in str(vars(record)) and "dXNlcjpwYXNz" not in str(vars(record))


@pytest.mark.logs_secrets  # on purpose: a credential key is what is tested
def test_a_credential_key_holding_an_object_that_cannot_be_compared_does_not_raise() -> None:
    """A filter must not raise on whatever a caller put in ``extra`` (a raising logger call
    would fail the request): the value under a credential key is never compared."""
    class Uncomparable:
        def __eq__(self, other: object) -> bool:
            raise ValueError("the truth value is ambiguous")

        __hash__ = None  # type: ignore[assignment]

    record = logging.LogRecord("service.test_count", logging.INFO, __file__, 1, "ok",
                               None, None)
    record.context = ({"token": Uncomparable()},)  # type: ignore[attr-defined]
    assert logs.RedactionFilter().filter(record)
    assert record.context == [{"token": "[REDACTED]"}]  # type: ignore[attr-defined]


def test_a_value_orjson_refuses_is_still_written(buffer: io.StringIO) -> None:
    """Lines are encoded with orjson (compact); what it cannot encode (an integer past 64
    bits, a lone surrogate) and a line with a non-ASCII character go through the standard
    encoder (ASCII escapes) instead: no line is lost, every line is ASCII."""
    log = logging.getLogger("service.test_encoding")
    log.info("plain", extra={"when": datetime(2026, 12, 3, 9, 30, tzinfo=UTC)})
    log.info("big", extra={"count": 2**70})
    log.info("surrogate", extra={"text": "a\udc80b"})
    log.info("accented", extra={"text": "Ä ✓"})
    lines = buffer.getvalue().splitlines()[-4:]
    plain, big, surrogate, accented = (json.loads(line) for line in lines)
    assert '"logger":"service.test_encoding"' in lines[0]  # orjson's compact form
    assert plain["when"] == "2026-12-03T09:30:00+00:00"
    assert big["count"] == 2**70
    assert surrogate["text"] == "a\udc80b"
    assert accented["text"] == "Ä ✓" and "\\u00c4" in lines[3]
    assert all(line.isascii() for line in lines)


@pytest.mark.logs_secrets  # on purpose: what the caller sends is what is tested
def test_request_id_and_hook_instance_are_scrubbed_but_stay_correlated(
        app: Flask, buffer: io.StringIO) -> None:
    """The request id (the caller's X-Request-ID when sane) and the hookInstance (read from
    the raw body) are stamped on every line: a token or an identifier pattern in them is
    scrubbed too, but not the patient's literal id, which a uuid may hold by chance."""
    cases = [(JWT[:120], "Bearer abcdefSECRET"),
             ("access_token:s3cr3tvalue", "patientId:998877"),
             ("req-4711", "0b3f0c2d-1234-4222-8333-944445555666")]
    for request_id, hook_instance in cases:
        body = {"hook": "patient-view", "hookInstance": hook_instance,
                "context": {"patientId": "1234", "userId": "Practitioner/9"}}
        with app.test_request_context("/cds-services/back-pain-patient-view", method="POST",
                                      json=body, headers={"X-Request-ID": request_id}):
            app.preprocess_request()
            read_json_object(request, 1 << 20, 64)
            logging.getLogger("service.test_ids").info("evaluated")
    lines = records(buffer)[-3:]
    text = buffer.getvalue()
    assert JWT[:120] not in text and "abcdefSECRET" not in text
    assert "s3cr3tvalue" not in text and "998877" not in text
    assert lines[0]["hookInstance"] == "Bearer [REDACTED]"
    assert lines[1]["request_id"] == "access_token:[REDACTED]"
    assert (lines[2]["request_id"], lines[2]["hookInstance"]) == cases[2]


def test_lines_outside_a_request_have_no_request_fields(buffer: io.StringIO) -> None:
    logging.getLogger("service.startup").info("started")
    [line] = [r for r in records(buffer) if r["logger"] == "service.startup"]
    assert "request_id" not in line and "hookInstance" not in line
    assert line["level"] == "INFO" and line["message"] == "started"


def test_configuring_twice_installs_one_handler() -> None:
    first = logs.configure_logging("INFO")
    second = logs.configure_logging("INFO")
    assert first is second
    assert sum(isinstance(h, type(first)) for h in logging.getLogger().handlers) == 1


def test_redact_keeps_ordinary_text() -> None:
    text = "cauda-equina critical card for topic cauda-equina, 3 facts, 12 ms"
    assert logs.redact(text) == text


@pytest.mark.logs_secrets  # on purpose: the redaction is part of what is tested
def test_lines_written_in_the_background_are_redacted_complete_and_in_order(
    app: Flask, buffer: io.StringIO
) -> None:
    """The server's workers hand their lines to a writer thread (issue #15): redaction and
    the request's ids still apply (they run on the request thread), every line arrives,
    each thread's in its order, and stopping writes what is left."""
    patient_id = "pt-55120-q"
    body = {"hook": "patient-view", "hookInstance": "c4f0c2de-1111-4222-8333-944445555777",
            "context": {"patientId": patient_id, "userId": "Practitioner/9"}}
    log = logging.getLogger("service.test_background")
    assert logs.write_in_background()
    try:
        with app.test_request_context("/cds-services/back-pain-patient-view", method="POST",
                                      json=body):
            app.preprocess_request()
            read_json_object(request, 1 << 20, 64)
            log.warning("fetch Patient/%s with Authorization: Bearer %s", patient_id, JWT)

        def burst(thread: int) -> None:
            for n in range(300):
                log.info("line %d of thread %d", n, thread)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(burst, range(8)))
    finally:
        logs.stop_background_writing()
    text = buffer.getvalue()
    assert patient_id not in text and JWT not in text
    lines = records(buffer)
    assert lines[0]["hookInstance"] == body["hookInstance"] and lines[0]["request_id"]
    by_thread: dict[int, list[int]] = {}
    for line in lines[1:]:
        n, thread = (int(w) for w in line["message"].split()[1::3])
        by_thread.setdefault(thread, []).append(n)
    assert by_thread == {thread: list(range(300)) for thread in range(8)}
    log.info("after the stop")  # written here again, at once
    assert records(buffer)[-1]["message"] == "after the stop"


class _CountingStream(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_the_log_writer_gathers_lines_instead_of_waking_for_each() -> None:
    """Lines handed over while the writer gathers wake nobody and go out in one write
    (issue #15: a wake-up per access line cost a loaded worker 15 % of its interpreter
    time); stop() still writes every line, in order."""
    stream = _CountingStream()
    writer = LineWriter(lambda: stream)
    writer.start()
    started = time.monotonic()
    try:
        for n in range(10):  # a line a millisecond, well inside one gathering period
            writer.put(f"line {n}\n")
            time.sleep(min(0.001, GATHER_SECONDS / 20))
        took = time.monotonic() - started
    finally:
        writer.stop()
    assert stream.getvalue() == "".join(f"line {n}\n" for n in range(10))
    # One write a line without gathering; with it, one a period (a loaded machine's slower
    # loop spans more periods than planned).
    assert stream.writes <= int(took / GATHER_SECONDS) + 2


class _SlowWriterThread(io.StringIO):
    """A stream on which the log writer thread's writes take 50 ms to land."""

    def write(self, text: str) -> int:
        if threading.current_thread().name == "backpain-log-writer":
            time.sleep(0.05)
        return super().write(text)


def test_a_line_logged_while_the_writer_stops_follows_the_waiting_ones(
    app: Flask, buffer: io.StringIO
) -> None:
    """stop_background_writing() detaches the writer and writes what waits in it: a line
    logged meanwhile must not overtake those (it waits for the stop, then is written)."""
    stream = _SlowWriterThread()
    handler = logs.configure_logging("DEBUG", stream=stream)
    log = logging.getLogger("service.test_stop_order")
    assert logs.write_in_background()
    try:
        for n in range(5):
            log.info("queued %d", n)
        stopping = threading.Thread(target=logs.stop_background_writing)
        stopping.start()
        deadline = time.monotonic() + 5
        while getattr(handler, "writer", None) is not None and time.monotonic() < deadline:
            time.sleep(0.0005)
        log.info("logged during the stop")
        stopping.join(5)
    finally:
        logs.stop_background_writing()
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == [
        *(f"queued {n}" for n in range(5)), "logged during the stop"]


def test_a_patient_id_named_twice_is_kept_once_and_every_id_is_redacted(
        app: Flask, buffer: io.StringIO) -> None:
    """The body scan names the patient, the parsed body names it again (hooks._call): one
    id to search each string for, not two; another id is added; both are redacted."""
    body = {"hook": "patient-view", "hookInstance": "b3f0c2de-1111-4222-8333-944445555666",
            "context": {"patientId": "pt-93817-x", "userId": "Practitioner/9"}}
    with app.test_request_context("/cds-services/back-pain-patient-view", method="POST",
                                  json=body):
        app.preprocess_request()
        read_json_object(request, 1 << 20, 64)
        logs.bind(hook_instance=body["hookInstance"], patient_id="pt-93817-x")
        assert logs._current_patient_ids() == ("pt-93817-x",)
        logs.bind(patient_id="other-77125")
        assert logs._current_patient_ids() == ("pt-93817-x", "other-77125")
        logging.getLogger("service.test_bind").info("ids pt-93817-x and other-77125")
    text = buffer.getvalue()
    assert "pt-93817-x" not in text and "other-77125" not in text
    assert records(buffer)[0]["message"] == "ids [REDACTED] and [REDACTED]"
