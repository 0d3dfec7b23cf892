"""Helpers for the tests that drive a real server (gunicorn here, or the container image).

A served app reads the real clock, while each sample scenario is written for its own fixed
``now``. :func:`shifted_request_body` moves every full date in the request by the whole
number of days between the two, so the patient's story is the same relative to the
server's "now" and the scenario's expected cards still hold.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import fhir_samples

# FHIR date, dateTime and instant values that carry a full date (partial dates are left).
_FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")

# A red flag (critical card) whose dates lie within days of `now`: the most telling check.
PREFERRED_SCENARIO = "ces-faecal-incontinence-snomed"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shift_dates(value: Any, delta: timedelta) -> Any:
    """A copy of ``value`` with every full date or date-time moved by ``delta``.

    Date-times move by the exact delta (kept in their own offset); dates by its whole days.
    """
    if isinstance(value, dict):
        return {key: shift_dates(item, delta) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_dates(item, delta) for item in value]
    if isinstance(value, str) and _FULL_DATE.match(value):
        if "T" not in value:
            return (date.fromisoformat(value) + timedelta(days=delta.days)).isoformat()
        moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + delta
        text = moved.isoformat()
        return text[:-6] + "Z" if value.endswith("Z") and text.endswith("+00:00") else text
    return value


def shifted_request_body(scenario: fhir_samples.Scenario, now: datetime) -> dict[str, Any]:
    """The scenario's request with its dates moved so that its ``now`` falls on ``now``."""
    return shift_dates(scenario.request_body(), now.replace(microsecond=0) - scenario.now)


def pick_scenario(name: str | None = None) -> fhir_samples.Scenario:
    """The named scenario, else the preferred one, else the first with expected cards."""
    if name:
        return fhir_samples.load(name)
    ids = fhir_samples.scenario_ids()
    if PREFERRED_SCENARIO in ids:
        return fhir_samples.load(PREFERRED_SCENARIO)
    with_cards = [s for s in fhir_samples.load_all() if s.expected]
    return with_cards[0] if with_cards else fhir_samples.load(ids[0])


def card_pairs(cards: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(topic code, indicator) of each card: what scenarios state as expected."""
    return {(card["source"]["topic"]["code"], card["indicator"]) for card in cards}


def http(base: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """One real HTTP call with the standard library: (status, headers, body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method="GET" if data is None else "POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def service_for_hook(discovery: dict[str, Any], hook: str) -> str:
    """The id of the discovered service that answers ``hook``."""
    ids = [service["id"] for service in discovery["services"] if service["hook"] == hook]
    if not ids:
        raise LookupError(f"no service for hook {hook!r} in discovery")
    return str(ids[0])


class SlowFhirServer(ThreadingHTTPServer):
    """A loopback FHIR server; ``requests`` counts the GETs it has received."""

    requests = 0


def slow_fhir_server(bundle: dict[str, Any], delay: float) -> SlowFhirServer:
    """Serve ``bundle`` for every GET after ``delay`` s, on a free loopback port, in a thread.

    Stands in for an EHR's FHIR server that is slow to answer (graceful-drain test, the
    worker-class measurement). Stop it with ``shutdown()``.
    """
    payload = json.dumps(bundle).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests += 1
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = SlowFhirServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
