"""The real server: ``backpain-cds serve`` (gunicorn + gunicorn.conf.py) on a free port.

Real HTTP over loopback, several worker processes, the preloaded app, the multiprocess
metrics directory, and a clean stop on SIGTERM: what the Flask test client cannot show.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path

import pytest

from service.config import Settings
from service.logs import ACCESS_LOGGER
from service.runtime import GC_THRESHOLDS
from tests.conftest import ROOT
from tests.log_guard import register_secret
from tests.ops_support import (
    card_pairs,
    free_port,
    http,
    pick_scenario,
    service_for_hook,
    shifted_request_body,
    slow_fhir_server,
)

CLI = str(Path(sys.executable).parent / "backpain-cds")
WORKERS = 2


@dataclass
class Server:
    base: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def server_env(tmp: Path, metrics_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BACKPAIN_CDS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
        "BACKPAIN_CDS_PATIENT_HASH_KEY": "gunicorn-test-only-key",
        "BACKPAIN_CDS_DATABASE_URL": f"sqlite:///{tmp}/served.sqlite3",
        "GUNICORN_CMD_ARGS": "",
    })
    if metrics_dir is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return env


def start_server(tmp: Path, metrics_dir: Path | None = None, *, workers: int = WORKERS,
                 name: str = "server", serve_args: tuple[str, ...] = (),
                 gunicorn_args: str = "", **settings: str) -> Server:
    """``backpain-cds serve`` on a free loopback port, its database in ``tmp`` migrated;
    ``serve_args`` added to its command line, ``gunicorn_args`` as GUNICORN_CMD_ARGS."""
    env = server_env(tmp, metrics_dir)
    env.update({f"BACKPAIN_CDS_{key}": value for key, value in settings.items()})
    env["GUNICORN_CMD_ARGS"] = gunicorn_args
    subprocess.run([CLI, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    log_path = tmp / f"{name}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [CLI, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             *serve_args],
            env=env, cwd=tmp, stdout=log_file, stderr=subprocess.STDOUT, text=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{server.log()[-3000:]}")
        try:
            if http(server.base, "/healthz", timeout=1)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"server did not answer within 60 s:\n{server.log()[-3000:]}")


def stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            return server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
            pytest.fail("server still running 30 s after SIGTERM")
    return int(server.process.returncode)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("gunicorn")
    stale = tmp / "metrics" / "counter_1.db"  # left by an earlier run: must not be counted
    stale.parent.mkdir()
    stale.write_bytes(b"not a metrics file")
    running = start_server(tmp, metrics_dir=tmp / "metrics")
    yield running
    stop(running)


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def test_liveness_and_readiness_over_http(server: Server) -> None:
    status, headers, body = http(server.base, "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    status, _, body = http(server.base, "/readyz")
    ready = json.loads(body)
    assert status == 200, ready
    assert ready["checks"]["database"] == "ok" and ready["checks"]["rules"] > 0


def keep_alive_answers(base: str, count: int) -> list[tuple[bool, socket.socket | None]]:
    """``count`` GETs of /healthz through one client connection: for each answer, whether
    it said "Connection: close", and the client's socket after it (None once closed)."""
    host, port = base.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=30)
    answers = []
    try:
        for _ in range(count):
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            answers.append((answer.getheader("Connection", "").lower() == "close",
                            connection.sock))
    finally:
        connection.close()
    return answers


def assert_closed_after(limit: int, answers: list[tuple[bool, socket.socket | None]]) -> None:
    closing = [close for close, _ in answers]
    sockets = [sock for _, sock in answers]
    assert closing == [False] * (limit - 1) + [True, False]
    first = sockets[0]
    assert first is not None and all(sock is first for sock in sockets[:limit - 1])
    assert sockets[limit - 1] is None  # the client closed it, as told
    assert sockets[limit] is not None and sockets[limit] is not first  # a new connection


def test_a_keep_alive_connection_is_closed_after_its_request_limit(server: Server) -> None:
    """Each connection stays with the worker that accepted it: after KEEPALIVE_REQUESTS
    answers the server says "Connection: close" and closes it, so that the client's next
    connection can go to another worker (service/transport.py)."""
    limit = Settings.model_fields["keepalive_requests"].default
    assert_closed_after(limit, keep_alive_answers(server.base, limit + 1))


def test_the_keep_alive_request_limit_is_configurable(tmp_path: Path) -> None:
    running = start_server(tmp_path, workers=1, KEEPALIVE_REQUESTS="3")
    try:
        assert_closed_after(3, keep_alive_answers(running.base, 4))
    finally:
        stop(running)


def test_a_keep_alive_request_limit_of_zero_never_closes(tmp_path: Path) -> None:
    running = start_server(tmp_path, workers=1, KEEPALIVE_REQUESTS="0")
    try:
        answers = keep_alive_answers(running.base, 150)
    finally:
        stop(running)
    first = answers[0][1]
    assert first is not None
    assert all(not close and sock is first for close, sock in answers)


def test_the_limit_holds_with_another_gunicorn_configuration_file(tmp_path: Path) -> None:
    """The worker takes the limit from the app's settings, not from the project's
    gunicorn.conf.py: an operator's own configuration file keeps it."""
    config = tmp_path / "site.gunicorn.conf.py"
    config.write_text('worker_class = "service.transport.ThreadWorker"\nthreads = 2\n')
    running = start_server(tmp_path, workers=1, serve_args=("--config", str(config)),
                           KEEPALIVE_REQUESTS="3")
    try:
        assert_closed_after(3, keep_alive_answers(running.base, 4))
        log = running.log()
    finally:
        stop(running)
    assert "is not service.transport.ThreadWorker" not in log
    # ... and is told at start what else of gunicorn.conf.py it goes without, one JSON
    # warning each (service/commands/gunicorn_check.py)
    warnings = [json.loads(line)["message"] for line in log.splitlines()
                if line.startswith("{") and json.loads(line).get("level") == "WARNING"]
    for lost in ("is not service.logs.GunicornLogger", "limit_request_field_size is",
                 "not OperationOutcomes", "hooks are not set", "PROMETHEUS_MULTIPROC_DIR"):
        assert sum(lost in w for w in warnings) == 1, (lost, warnings)


def test_another_worker_class_is_served_with_a_warning(tmp_path: Path) -> None:
    """gunicorn's own gthread worker knows nothing of the keep-alive limit: the server
    still starts (an operator's choice), and says at start what that choice gives up."""
    running = start_server(tmp_path, workers=1, gunicorn_args="--worker-class gthread")
    try:
        assert http(running.base, "/healthz")[0] == 200
        warnings = [json.loads(line) for line in running.log().splitlines()
                    if "is not service.transport.ThreadWorker" in line]
    finally:
        stop(running)
    assert len(warnings) == 1
    assert warnings[0]["level"] == "WARNING"
    # the rest of gunicorn.conf.py is in force: nothing else is said to be lost
    assert "hooks are not set" not in running.log()
    assert "is not service.logs.GunicornLogger" not in running.log()
    assert "gunicorn.workers.gthread.ThreadWorker" in warnings[0]["message"]
    assert "BACKPAIN_CDS_KEEPALIVE_REQUESTS is ignored" in warnings[0]["message"]


def _read_answer(sock: socket.socket) -> bytes:
    """One HTTP answer from ``sock`` (headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return head


@pytest.mark.parametrize("pipelined", [False, True], ids=["nothing-unread", "pipelined"])
def test_a_client_that_keeps_its_socket_open_after_close_stalls_nobody(
        tmp_path: Path, pipelined: bool) -> None:
    """gunicorn lingers up to 2 s on its event-loop thread for a closed connection's
    client to close too: with a request limit that would stall the whole worker every
    KEEPALIVE_REQUESTS requests. A client that reads "Connection: close" and keeps its
    socket open (with, or without, a pipelined request behind) must not delay another
    client's call, and its connection is still closed by the server."""
    running = start_server(tmp_path, workers=1, KEEPALIVE_REQUESTS="3")
    host, port = running.base.removeprefix("http://").split(":")
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    lingering = socket.create_connection((host, int(port)), timeout=10)
    try:
        for _ in range(2):
            lingering.sendall(request)
            assert b"close" not in _read_answer(lingering).lower()
        lingering.sendall(request * (2 if pipelined else 1))
        assert b"connection: close" in _read_answer(lingering).lower()
        started = time.monotonic()
        status, _, _ = http(running.base, "/healthz", timeout=10)
        other_call = time.monotonic() - started
        lingering.settimeout(5)
        closed_by_server = lingering.recv(65536) == b""
    finally:
        lingering.close()
        stop(running)
    assert status == 200
    assert other_call < 1.0, f"another client waited {other_call:.2f} s"
    assert closed_by_server


def settled_worker_pids(master: int, wanted: int, within: float = 30.0) -> list[int]:
    """The master's workers once ``wanted`` of them have forked (the server answers as soon
    as the first one is up), or whatever there is after ``within`` seconds."""
    deadline = time.monotonic() + within
    pids = worker_pids(master)
    while len(pids) < wanted and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = worker_pids(master)
    return pids


def test_runs_the_configured_number_of_worker_processes(server: Server) -> None:
    assert len(settled_worker_pids(server.process.pid, WORKERS)) == WORKERS


def test_workers_inherit_the_masters_runtime_tuning(server: Server) -> None:
    """service.runtime's collector thresholds and the frozen start-up heap reach every
    worker (issue #15: without them a full collection pauses a call now and then)."""
    settled_worker_pids(server.process.pid, WORKERS)
    deadline = time.monotonic() + 30
    while True:
        lines = [json.loads(line).get("message", "") for line in server.log().splitlines()
                 if line.strip()]
        tuned = [m for m in lines if m.startswith("worker runtime:")]
        if len(tuned) >= WORKERS or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(tuned) >= WORKERS, lines[-20:]
    for message in tuned:
        match = re.fullmatch(r"worker runtime: gc thresholds \((\d+), (\d+), (\d+)\), "
                             r"(\d+) objects frozen", message)
        assert match, message
        assert tuple(int(g) for g in match.groups()[:3]) == GC_THRESHOLDS
        assert int(match.group(4)) > 50_000  # modules, value sets, models


def test_discovery_and_a_sample_hook_answer_with_the_expected_cards(server: Server) -> None:
    status, _, body = http(server.base, "/cds-services")
    assert status == 200
    discovery = json.loads(body)
    scenario = pick_scenario()
    service_id = service_for_hook(discovery, scenario.hook)
    status, headers, body = http(server.base, f"/cds-services/{service_id}",
                                 shifted_request_body(scenario, datetime.now(UTC)),
                                 headers={"X-Request-ID": "hook-call-1"})
    assert status == 200, body[:500]
    assert headers["X-Request-ID"] == "hook-call-1"
    assert card_pairs(json.loads(body)["cards"]) == set(scenario.expected)


def test_metrics_add_up_every_worker(server: Server) -> None:
    """Each call may land on either worker; /metrics must count them all, once each."""
    def discovery_count() -> float:
        text = http(server.base, "/metrics")[2].decode()
        match = re.search(
            r'^backpain_cds_requests_total\{hook="none",service="discovery",status="200"\} '
            r"([0-9.e+]+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    before = discovery_count()
    calls = 8
    for _ in range(calls):  # urllib opens a new connection each time: spread over workers
        assert http(server.base, "/cds-services")[0] == 200
    assert discovery_count() - before == calls
    written = {path.name for path in (server.log_path.parent / "metrics").glob("*.db")}
    assert "counter_1.db" not in written, "stale file of an earlier run kept"
    assert any(name.startswith("counter_") for name in written)


def request_log_records(server: Server, request_id: str, within: float = 10.0) -> list[dict]:
    """Every log record (each line must be JSON) of one request, once its access line,
    written after the response, is there; whatever there is after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        records = [json.loads(line) for line in server.log().splitlines() if line.strip()]
        mine = [r for r in records if r.get("request_id") == request_id]
        if any(r.get("logger") == ACCESS_LOGGER for r in mine) or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def test_every_log_line_is_json_and_hook_lines_carry_ids(server: Server) -> None:
    scenario = pick_scenario()
    discovery = json.loads(http(server.base, "/cds-services")[2])
    body = shifted_request_body(scenario, datetime.now(UTC))
    http(server.base, f"/cds-services/{service_for_hook(discovery, scenario.hook)}", body,
         headers={"X-Request-ID": "log-check-7"})
    mine = request_log_records(server, "log-check-7")
    assert mine and all(r.get("hookInstance") == body["hookInstance"] for r in mine)
    assert scenario.patient_id not in server.log()


def test_sigterm_stops_master_and_workers_cleanly(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    workers = settled_worker_pids(server.process.pid, WORKERS)
    assert len(workers) == WORKERS
    [metrics_dir] = Path(tempfile.gettempdir()).glob(
        f"backpain-cds-metrics-{server.process.pid}-*")
    assert http(server.base, "/cds-services")[0] == 200
    started = time.monotonic()
    assert stop(server) == 0, server.log()[-2000:]
    took = time.monotonic() - started
    # gunicorn.conf.py graceful_timeout: past it a worker that did not exit is killed.
    # (Seen once under a loaded CI run, 20.2 s, not reproduced: the log says who hung.)
    assert took < 20, f"stopped in {took:.1f} s:\n{server.log()[-4000:]}"
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert "Shutting down: Master" in server.log()
    assert not metrics_dir.exists(), "temporary metrics directory left behind"


def test_sigterm_lets_a_call_in_flight_finish(tmp_path: Path) -> None:
    """Graceful shutdown: a hook call waiting on a slow FHIR server still gets its cards."""
    scenario = pick_scenario()
    body = shifted_request_body(scenario, datetime.now(UTC))
    observations = body["prefetch"].pop("observations")  # the service must fetch them
    upstream = slow_fhir_server(observations, delay=2.0)
    fhir_base = f"http://127.0.0.1:{upstream.server_port}"
    body["fhirServer"] = fhir_base
    body["fhirAuthorization"] = {"access_token": "drain-test-token", "token_type": "Bearer",
                                 "expires_in": 300, "scope": "patient/*.read",
                                 "subject": "backpain-cds"}
    register_secret("drain-test-token")
    server = start_server(tmp_path, FHIR_SERVER_ALLOWLIST=fhir_base, ALLOW_HTTP_LOOPBACK="1",
                          FHIR_TIMEOUT_SECONDS="5", FHIR_DEADLINE_SECONDS="8")
    try:
        discovery = json.loads(http(server.base, "/cds-services")[2])
        path = f"/cds-services/{service_for_hook(discovery, scenario.hook)}"
        with ThreadPoolExecutor(max_workers=1) as pool:
            in_flight = pool.submit(http, server.base, path, body)
            deadline = time.monotonic() + 10
            while not upstream.requests and time.monotonic() < deadline:
                time.sleep(0.05)  # the call has reached the FHIR server: it is in flight
            assert upstream.requests, "the hook call never reached the FHIR server"
            server.process.send_signal(signal.SIGTERM)
            status, _, answer = in_flight.result(timeout=30)
        assert status == 200, answer[:300]
        assert card_pairs(json.loads(answer)["cards"]) == set(scenario.expected)
        assert server.process.wait(timeout=30) == 0
    finally:
        stop(server)
        upstream.shutdown()


