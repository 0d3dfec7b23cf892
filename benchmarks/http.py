"""Over HTTP: the real gunicorn server under wrk, next to a bare Flask app (the ceiling).

Both servers run with the project's ``gunicorn.conf.py`` and the same worker count, one
after the other on this machine, so the throughput ratio survives a noisy machine better
than either number alone.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
SERVICE_APP = "service.app:create_app()"
BARE_APP = "benchmarks.bare_app:app"


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(workdir: Path, max_body: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPAIN_CDS_")}
    env.update(
        {
            "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
            "BACKPAIN_CDS_DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "BACKPAIN_CDS_PATIENT_HASH_KEY": "benchmark-only-key",
            "BACKPAIN_CDS_MAX_BODY_BYTES": str(max_body),
            "BACKPAIN_CDS_LOG_LEVEL": "WARNING",
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    cli = Path(sys.executable).parent / "backpain-cds"
    subprocess.run([str(cli), "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)


@contextmanager
def gunicorn(app_spec: str, workers: int, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Run gunicorn with the project's config; yield (base URL, master pid)."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers)]
    if (ROOT / "gunicorn.conf.py").exists():
        command += ["--config", str(ROOT / "gunicorn.conf.py")]
    proc = subprocess.Popen([*command, app_spec], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"gunicorn exited: {err[-2000:]}")
        try:
            httpx.get(base + "/cds-services", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not become ready")


def run_wrk(url: str, body_file: Path, connections: int, seconds: int) -> dict[str, Any]:
    env = dict(os.environ, BENCH_BODY=str(body_file))
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(ROOT / "benchmarks" / "post.lua"), url],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"WRKJSON (\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk printed no summary: {out[-500:]}")
    raw = orjson.loads(match.group(1))
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("non200", "connect_errors", "read_errors", "write_errors",
                                  "timeouts"))
    return {
        "connections": connections,
        "requests": raw["requests"],
        "throughput_rps": round(raw["requests"] / seconds_run, 1),
        "errors": errors,
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


def worker_peak_rss_mb(master_pid: int) -> list[float]:
    """Peak RSS (VmHWM) of each gunicorn worker, in MB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    pids = children.read_text().split() if children.exists() else []
    peaks = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            if match:
                peaks.append(round(int(match.group(1)) / 1024, 1))
    return peaks


def throughput_comparison(service_path: str, body: bytes, workers: int, connections: int,
                          seconds: int, largest_body: bytes | None = None) -> dict[str, Any]:
    """Service vs bare Flask under the same load; plus worker memory after the largest input."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        body_file = workdir / "body.json"
        body_file.write_bytes(body)
        max_body = max(len(body), len(largest_body or b"")) + 1_000_000
        env = server_env(workdir, max_body)
        migrate(env)
        with gunicorn(SERVICE_APP, workers, env) as (base, pid):
            service = run_wrk(base + service_path, body_file, connections, seconds)
            memory = _memory_after(base + service_path, pid, largest_body)
        with gunicorn(BARE_APP, workers, env) as (base, _pid):
            bare = run_wrk(base + service_path, body_file, connections, seconds)
    ratio = service["throughput_rps"] / bare["throughput_rps"] if bare["throughput_rps"] else None
    return {
        "workers": workers,
        "service": service,
        "bare_flask_ceiling": bare,
        "throughput_ratio_to_ceiling": round(ratio, 3) if ratio else None,
        "worker_peak_rss_mb": memory,
    }


def _memory_after(url: str, master_pid: int, largest_body: bytes | None) -> dict[str, Any]:
    before = worker_peak_rss_mb(master_pid)
    if largest_body is None:
        return {"after_load": before}
    with httpx.Client(timeout=120) as client:
        for _ in range(4):  # reach every worker at least once with high probability
            answer = client.post(url, content=largest_body,
                                 headers={"Content-Type": "application/json"})
            answer.raise_for_status()
    return {"after_load": before, "after_largest_input": worker_peak_rss_mb(master_pid),
            "largest_input_bytes": len(largest_body)}
