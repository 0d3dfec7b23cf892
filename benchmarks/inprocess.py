"""In-process latency: the WSGI app called directly, warm, next to the orjson floor.

The floor is ``orjson.loads`` of the very same request body: no service can answer
without at least parsing what it was sent, so each result is also a ratio to it.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from flask import Flask


@dataclass(frozen=True)
class Latency:
    """Percentiles in milliseconds over ``iterations`` warm calls."""

    iterations: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentiles(samples_s: list[float]) -> Latency:
    ordered = sorted(samples_s)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return Latency(len(ordered), at(0.50), at(0.95), at(0.99), statistics.fmean(ordered) * 1000)


def measure(call: Callable[[], object], iterations: int, warmup: int = 3) -> Latency:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def wsgi_caller(app: Flask, path: str, body: bytes) -> Callable[[], int]:
    """A zero-argument callable that POSTs ``body`` to ``path`` through ``app.wsgi_app``."""
    base_environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    status_holder: list[str] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        status_holder.append(status)
        return lambda _data: None

    def call() -> int:
        environ = dict(base_environ)
        environ["wsgi.input"] = io.BytesIO(body)
        chunks = app.wsgi_app(environ, start_response)
        b"".join(chunks)
        code = int(status_holder.pop().split()[0])
        if code != 200:
            raise RuntimeError(f"benchmark request answered {code}")
        return code

    return call


def floor_caller(body: bytes) -> Callable[[], object]:
    return lambda: orjson.loads(body)


def compare(app: Flask, path: str, body: bytes, iterations: int) -> dict[str, Any]:
    """Service latency and the orjson floor for one body, with their p50 ratio."""
    service = measure(wsgi_caller(app, path, body), iterations)
    floor = measure(floor_caller(body), max(iterations, 20))
    return {
        "body_bytes": len(body),
        "service": service.as_dict(),
        "floor_orjson": floor.as_dict(),
        "p50_ratio_to_floor": round(service.p50_ms / floor.p50_ms, 2) if floor.p50_ms else None,
    }
