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
import threading
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


def server_env(workdir: Path, max_body: int | None, log_level: str = "WARNING") -> dict[str, str]:
    """The service's environment; ``max_body`` None keeps the default body limit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPAIN_CDS_")}
    env.update(
        {
            "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
            "BACKPAIN_CDS_DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "BACKPAIN_CDS_PATIENT_HASH_KEY": "benchmark-only-key",
            "BACKPAIN_CDS_LOG_LEVEL": log_level,
        }
    )
    if max_body is not None:
        env["BACKPAIN_CDS_MAX_BODY_BYTES"] = str(max_body)
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
    # The log (one access line a call at INFO) goes to a file: a pipe nobody reads would
    # block the workers once full.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([*command, app_spec], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, proc, log)
            yield base, proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
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


def workers_of(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def worker_peak_rss_mb(master_pid: int) -> list[float]:
    """Peak RSS (VmHWM) of each gunicorn worker, in MB."""
    peaks = []
    for pid in workers_of(master_pid):
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            if match:
                peaks.append(round(int(match.group(1)) / 1024, 1))
    return peaks


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None once it has gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def workers_cpu_seconds(master_pid: int) -> float:
    """User + system CPU time of the master and its workers so far, including workers that
    have exited (gunicorn recycles them after max_requests; the master reaps them, so their
    time is in its children's fields)."""
    ticks = 0
    for pid in (master_pid, *workers_of(master_pid)):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        if pid == master_pid:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime (16 and 17)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_worker(master_pid: int) -> dict[int, float]:
    """User + system CPU time of each live worker so far."""
    seconds = {}
    for pid in workers_of(master_pid):
        fields = _stat_fields(pid)
        if fields is not None:
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def busiest_share(before: dict[int, float], after: dict[int, float]) -> float | None:
    """The busiest live worker's share of the CPU the live workers used between two
    readings: 1/workers when the load is even, 1.0 when one worker did everything (a
    connection stays with the worker that accepted it: the third session found whole runs
    on one worker, README)."""
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    total = sum(used)
    return round(max(used) / total, 2) if total > 0 else None


def _wrk_with_cpu(url: str, body_file: Path, master_pid: int, connections: int,
                  seconds: int) -> dict[str, Any]:
    before, by_worker = workers_cpu_seconds(master_pid), cpu_seconds_by_worker(master_pid)
    run = run_wrk(url, body_file, connections, seconds)
    used = workers_cpu_seconds(master_pid) - before
    run["server_cpu_ms_per_call"] = round(used * 1000 / run["requests"], 3) \
        if run["requests"] else None
    run["busiest_worker_cpu_share"] = busiest_share(by_worker, cpu_seconds_by_worker(master_pid))
    return run


def _answer_cards(url: str, body: bytes) -> list[str]:
    answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"},
                        timeout=30)
    answer.raise_for_status()
    return [f"{card['source']['topic']['code']}/{card['indicator']}"
            for card in answer.json().get("cards", [])]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one kind of call: their totals, and the median (and worst) of the rest."""
    seconds = sum(r["requests"] / r["throughput_rps"] for r in runs if r["throughput_rps"])
    requests = sum(r["requests"] for r in runs)
    cpu = [r["server_cpu_ms_per_call"] for r in runs if r.get("server_cpu_ms_per_call")]
    shares = [r["busiest_worker_cpu_share"] for r in runs if r.get("busiest_worker_cpu_share")]
    return {
        "connections": runs[0]["connections"],
        "requests": requests,
        "errors": sum(r["errors"] for r in runs),
        "throughput_rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(_median([r["p50_ms"] for r in runs]), 3),
        "p99_ms": round(_median([r["p99_ms"] for r in runs]), 3),
        "p99_ms_worst_round": max(r["p99_ms"] for r in runs),
        "server_cpu_ms_per_call": round(_median(cpu), 3) if cpu else None,
        "busiest_worker_cpu_share": round(_median(shares), 2) if shares else None,
        "rounds": runs,
    }


def http_comparison(service_path: str, bodies: dict[str, bytes], *, workers: int,
                    connections: int, seconds: int, rounds: int,
                    memory_body: bytes | None) -> dict[str, Any]:
    """The service (each body in ``bodies``) and bare Flask (the ``"cards"`` body) under
    wrk, round after round, both servers up all along; each round's ratios are taken
    within the round. Then worker peak memory after ``memory_body``, sequentially.

    The service runs as shipped: gunicorn.conf.py, the default body limit, INFO logs (one
    access line a call, redacted)."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        files = {}
        for name, body in bodies.items():
            files[name] = workdir / f"{name}.json"
            files[name].write_bytes(body)
        env = server_env(workdir, None, log_level="INFO")
        migrate(env)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in (*bodies, "bare_flask")}
        with gunicorn(SERVICE_APP, workers, env) as (base, pid), \
                gunicorn(BARE_APP, workers, env) as (bare_base, bare_pid):
            url, bare_url = base + service_path, bare_base + service_path
            answers = {name: _answer_cards(url, body) for name, body in bodies.items()}
            for name in bodies:  # warm both servers
                run_wrk(url, files[name], connections, 1)
            run_wrk(bare_url, files["cards"], connections, 1)
            after_load_peak: list[float] = []
            for _ in range(rounds):
                for name in bodies:
                    runs[name].append(_wrk_with_cpu(url, files[name], pid, connections,
                                                    seconds))
                runs["bare_flask"].append(_wrk_with_cpu(bare_url, files["cards"], bare_pid,
                                                        connections, seconds))
                after_load_peak = worker_peak_rss_mb(pid)
            memory = _memory_after(url, pid, memory_body)
            memory["after_load"] = after_load_peak
    summary = {name: _summary(items) for name, items in runs.items()}
    return {
        "workers": workers,
        "rounds": rounds,
        "seconds_per_run": seconds,
        "answers": answers,
        **summary,
        "throughput_ratio_to_ceiling": round(_median(
            [s["throughput_rps"] / b["throughput_rps"]
             for s, b in zip(runs["cards"], runs["bare_flask"], strict=True)
             if b["throughput_rps"]]), 3),
        "cpu_ratio_cards_to_card_less": _cpu_ratio(runs),
        "worker_peak_rss_mb": memory,
    }


def _cpu_ratio(runs: dict[str, list[dict[str, Any]]]) -> float | None:
    pairs = [(a.get("server_cpu_ms_per_call"), b.get("server_cpu_ms_per_call"))
             for a, b in zip(runs.get("cards", []), runs.get("card_less", []), strict=False)]
    ratios = [a / b for a, b in pairs if a and b]
    return round(_median(ratios), 3) if ratios else None


def _memory_after(url: str, master_pid: int, body: bytes | None) -> dict[str, Any]:
    """Peak RSS after 4 calls carrying ``body`` one after the other (the target), then
    after 2 x workers such calls at once (a worker serves several threads: each call holds
    its own parsed copy)."""
    if body is None:
        return {}
    statuses = []
    headers = {"Content-Type": "application/json", "Connection": "close"}
    with httpx.Client(timeout=300) as client:
        for _ in range(4):  # new connections: the kernel spreads them over the workers
            statuses.append(client.post(url, content=body, headers=headers).status_code)
    sequential = worker_peak_rss_mb(master_pid)
    at_once: list[int] = []

    def post() -> None:
        at_once.append(httpx.post(url, content=body, headers=headers, timeout=300).status_code)

    threads = [threading.Thread(target=post) for _ in range(2 * len(sequential))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"after_largest_input": sequential, "largest_input_bytes": len(body),
            "statuses": statuses, "after_two_at_once_per_worker": worker_peak_rss_mb(master_pid),
            "statuses_at_once": at_once}
