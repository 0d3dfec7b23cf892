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
        try:
            b"".join(chunks)
        finally:  # as a WSGI server does once the answer is written
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        code = int(status_holder.pop().split()[0])
        if code != 200:
            raise RuntimeError(f"benchmark request answered {code}")
        return code

    return call


def floor_caller(body: bytes) -> Callable[[], object]:
    return lambda: orjson.loads(body)


def interleaved(callers: dict[str, Callable[[], object]], iterations: int,
                warmup: int = 3) -> dict[str, Latency]:
    """Each caller timed once per round, round after round: on a shared, noisy machine a
    burst of load then hits every measurement alike, so their ratios stay meaningful."""
    for call in callers.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[float]] = {name: [] for name in callers}
    clock = time.perf_counter
    for _ in range(iterations):
        for name, call in callers.items():
            start = clock()
            call()
            samples[name].append(clock() - start)
    return {name: percentiles(values) for name, values in samples.items()}


def cards_of(app: Flask, path: str, body: bytes) -> list[str]:
    """``topic/indicator`` of each card the service answers ``body`` with."""
    answer = app.test_client().post(path, data=body, content_type="application/json")
    cards = (answer.get_json() or {}).get("cards", [])
    return [f"{card['source']['topic']['code']}/{card['indicator']}" for card in cards]


def compare(app: Flask, path: str, body: bytes, iterations: int,
            bare: Flask | None = None) -> dict[str, Any]:
    """Service latency, the orjson floor and (given ``bare``) a bare Flask app for one
    body, measured interleaved, with the service's p50 ratio to the floor."""
    callers: dict[str, Callable[[], object]] = {"service": wsgi_caller(app, path, body),
                                                "floor_orjson": floor_caller(body)}
    if bare is not None:
        callers["bare_flask"] = wsgi_caller(bare, path, body)
    timed = interleaved(callers, iterations)
    # The floor alone, call after call with nothing in between: the physical minimum. The
    # target is judged on the interleaved floor (parsed right after a service call, with
    # the caches as the call left them), which on some machines is twice this or more.
    alone = timed["floor_orjson_alone"] = measure(floor_caller(body), iterations)
    service, floor = timed["service"], timed["floor_orjson"]
    return {
        "body_bytes": len(body),
        "cards": cards_of(app, path, body),
        **{name: latency.as_dict() for name, latency in timed.items()},
        "p50_ratio_to_floor": round(service.p50_ms / floor.p50_ms, 2) if floor.p50_ms else None,
        "p50_ratio_to_floor_alone": round(service.p50_ms / alone.p50_ms, 2)
        if alone.p50_ms else None,
        "p99_ratio_to_p50": round(service.p99_ms / service.p50_ms, 2) if service.p50_ms else None,
    }


# The steps of a hook call in service.hooks, by the names it calls them (those present).
STEPS = ("read_json_body", "load_call", "resolve_prefetch", "build_record",
         "evaluate_record", "_answer", "json_response")


def breakdown(app: Flask, path: str, body: bytes, iterations: int) -> dict[str, float]:
    """Median milliseconds of each step of a call (service.hooks' functions wrapped with a
    timer for this measurement only); ``other`` is the rest (Flask, trust, logging,
    metrics, and freeing the parsed request when the view returns), taken call by call:
    the median of each call's remainder, not the median total less the steps' medians,
    which on a noisy machine charged the steps' slow tails to ``other``."""
    from service import hooks

    spent: dict[str, float] = {}
    per_call: dict[str, list[float]] = {}
    originals = {name: getattr(hooks, name) for name in STEPS if hasattr(hooks, name)}

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    call = wsgi_caller(app, path, body)
    try:
        for name, func in originals.items():
            setattr(hooks, name, timed(name, func))
        totals, rests = [], []
        for _ in range(iterations):
            spent.clear()
            start = time.perf_counter()
            call()
            totals.append(time.perf_counter() - start)
            rests.append(totals[-1] - sum(spent.get(name, 0.0) for name in originals))
            for name in originals:
                per_call.setdefault(name, []).append(spent.get(name, 0.0))
    finally:
        for name, func in originals.items():
            setattr(hooks, name, func)
    steps = {name: statistics.median(per_call[name]) * 1000 for name in originals}
    return {**{k: round(v, 3) for k, v in steps.items()},
            "other": round(statistics.median(rests) * 1000, 3),
            "total": round(statistics.median(totals) * 1000, 3)}
