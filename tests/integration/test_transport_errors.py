"""Malformed HTTP over a real socket to the real server (gunicorn, trust on): every answer
is one 4xx FHIR OperationOutcome in JSON (501 for a transfer coding gunicorn does not
know), never a 500 or gunicorn's HTML page, and never a second, unsolicited answer on
the connection. Bodies a trusted client nests too deeply are 400 on hook and feedback."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.test_gunicorn_server import Server, start_server, stop
from tests.trust_support import BASE, FEEDBACK, SERVICE, Signer, client_entry, hook_body

MAX_BODY = 64 * 1024
CHUNKED = b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    responses: int  # how many status lines came back on the connection

    def outcome(self) -> dict[str, object]:
        assert self.headers.get("content-type", "").startswith("application/json"), self
        parsed = json.loads(self.body)
        assert parsed["resourceType"] == "OperationOutcome", parsed
        return dict(parsed)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.ec("ES384", "transport-1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("transport")
    clients = tmp / "clients.json"
    clients.write_text(json.dumps([client_entry(signer)]))
    running = start_server(tmp, name="transport", ALLOW_UNAUTHENTICATED="0",
                           PATIENT_HASH_KEY="transport-test-key-" + "0123456789abcdef" * 2,
                           TRUSTED_CLIENTS_FILE=str(clients), PUBLIC_BASE_URL=BASE,
                           MAX_BODY_BYTES=str(MAX_BODY))
    yield running
    stop(running)


def send(server: Server, data: bytes) -> Answer:
    """Write ``data`` on a fresh connection and read until the server closes it."""
    host, port = server.base.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(data)
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except TimeoutError:
            pass  # a kept-alive connection: everything sent has been read
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(headers.get("Content-Length", len(body)))
    return Answer(int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()},
                  body[:length], received.count(b"HTTP/1.1 "))


def request(path: str, headers: bytes = b"", body: bytes = b"", method: bytes = b"POST",
            close: bool = True) -> bytes:
    line = method + b" " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    return line + headers + (b"Connection: close\r\n" if close else b"") + b"\r\n" + body


def bearer(signer: Signer, path: str) -> bytes:
    return f"Authorization: Bearer {signer.token(path)}\r\n".encode()


def assert_outcome(answer: Answer, status: int) -> dict[str, object]:
    assert (answer.status, answer.responses) == (status, 1), answer
    return answer.outcome()


BAD_CHUNK = b"zz\r\n{}\r\n0\r\n\r\n"


@pytest.mark.parametrize("path", [SERVICE, FEEDBACK, "/cds-services", "/healthz",
                                  "/openapi.json"])
def test_a_malformed_chunked_body_without_a_token_is_one_4xx_outcome(
        server: Server, path: str) -> None:
    answer = send(server, request(path, CHUNKED, BAD_CHUNK, close=False))  # kept alive
    assert 400 <= answer.status < 500
    assert_outcome(answer, answer.status)


@pytest.mark.parametrize("path", [SERVICE, FEEDBACK])
def test_a_malformed_chunked_body_of_a_trusted_client_is_400(server: Server, signer: Signer,
                                                             path: str) -> None:
    answer = send(server, request(path, CHUNKED + bearer(signer, path), BAD_CHUNK,
                                  close=False))
    issue = assert_outcome(answer, 400)["issue"]
    assert "chunked" in json.dumps(issue)


@pytest.mark.parametrize(("raw", "status"), [
    (request("/healthz", b"X-Note: a\x00b\r\n", method=b"GET"), 400),
    (request("/healthz", b"Authorization: Bearer a\x00b\r\n", method=b"GET"), 400),
    (request("/" + "a" * 5000, method=b"GET"), 414),
    (request(SERVICE, b"Content-Length: -1\r\n"), 400),
    (request(SERVICE, b"Content-Length: ten\r\n"), 400),
    (request(SERVICE, b"Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"), 400),
    (request(SERVICE, b"Content-Length: 2\r\n" + CHUNKED, b"{}"), 400),
    (request("/healthz", b"".join(b"X-H%d: v\r\n" % i for i in range(150)),
             method=b"GET"), 431),
    (request("/healthz", b"X-Big: " + b"v" * 40_000 + b"\r\n", method=b"GET"), 431),
    (request(SERVICE, b"Transfer-Encoding: xchunked\r\n"), 501),
])
def test_what_gunicorn_refuses_itself_is_an_outcome(server: Server, raw: bytes,
                                                    status: int) -> None:
    outcome = assert_outcome(send(server, raw), status)
    assert "a\x00b" not in json.dumps(outcome)


def test_a_token_over_8_kib_reaches_the_trust_check(server: Server, signer: Signer) -> None:
    """gunicorn's default header limit (8 KiB) answered 431 in HTML before the verifier's
    own 16 KiB limit could apply: a valid 9 KiB token is now accepted, a 17 KiB one gets
    the trust layer's 401, and only a header past that gets 431 (above)."""
    answers = {}
    for size in (7_000, 13_000):
        token = signer.token("/cds-services", padding="p" * size)
        assert len(token) > 8 * 1024
        answers[size] = send(server, request(
            "/cds-services", f"Authorization: Bearer {token}\r\n".encode(), method=b"GET"))
    assert answers[7_000].status == 200
    assert_outcome(answers[13_000], 401)
    assert answers[13_000].headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", [SERVICE, FEEDBACK])
@pytest.mark.parametrize("depth", [254, 255, 600, 1000])
def test_deep_json_of_a_trusted_client_is_400(server: Server, signer: Signer, path: str,
                                              depth: int) -> None:
    body = hook_body() if path == SERVICE else {"feedback": []}
    raw = json.dumps(body)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    headers = (bearer(signer, path) + b"Content-Type: application/json\r\n"
               + f"Content-Length: {len(raw)}\r\n".encode())
    outcome = assert_outcome(send(server, request(path, headers, raw.encode())), 400)
    assert "nest" in json.dumps(outcome)


def test_a_chunked_body_over_the_limit_is_413_not_malformed(server: Server,
                                                            signer: Signer) -> None:
    """Without a Content-Length the body is cut at the limit: too large, not bad JSON."""
    body = b'{"padding": "' + b"x" * (MAX_BODY + 1000) + b'"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8192]), body[i:i + 8192])
                      for i in range(0, len(body), 8192)) + b"0\r\n\r\n"
    answer = send(server, request(SERVICE, CHUNKED + bearer(signer, SERVICE), chunks))
    assert_outcome(answer, 413)


def test_the_server_still_answers(server: Server, signer: Signer) -> None:
    answer = send(server, request("/cds-services", bearer(signer, "/cds-services"),
                                  method=b"GET"))
    assert answer.status == 200 and json.loads(answer.body)["services"]
    assert "Traceback" not in server.log()
