"""What the operations team and the orchestrator ask: alive, ready, metrics.

- ``GET /healthz``: the process answers (liveness). Never touches the database: a
  database outage must not make Kubernetes restart every replica.
- ``GET /readyz``: the rule catalogue is loaded and the database takes a write (readiness);
  503 with a FHIR OperationOutcome naming what is missing otherwise, so the load
  balancer sends traffic elsewhere until it recovers.
- ``GET /metrics``: Prometheus text. Under gunicorn with several workers
  ``PROMETHEUS_MULTIPROC_DIR`` is set (``gunicorn.conf.py``) and every worker's numbers
  are summed by a :class:`MultiProcessCollector`.

:func:`init_app` also installs the JSON logs and request ids (:mod:`service.logs`).
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from cds_rules import RULES
from service import logs
from service import metrics as _metrics  # defines every metric

blueprint = Blueprint("ops", __name__)

_NO_STORE = {"Cache-Control": "no-store"}


def rule_count() -> int:
    """How many rules the clinical core's catalogue holds (readiness: at least one)."""
    return len(RULES)


def _database_ok() -> bool | None:
    """True/False from the store's ping; None when no store is registered."""
    store = current_app.extensions.get("backpain", {}).get("store")
    ping: Callable[[], bool] | None = getattr(store, "ping", None)
    if ping is None:
        return None
    try:
        return bool(ping())
    except Exception:  # ping should never raise; if it does, the database is not usable
        return False


def _operation_outcome(problems: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "transient", "diagnostics": problem}
                  for problem in problems],
    }


@blueprint.get("/healthz")
def healthz() -> Response:
    response = jsonify(status="ok")
    response.headers.update(_NO_STORE)
    return response


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    problems: list[str] = []
    rules = rule_count()
    if rules == 0:
        problems.append("rule catalogue not loaded")
    database = _database_ok()
    if database is False:
        problems.append("database not reachable, not migrated or not writable")
    if problems:
        response = jsonify(_operation_outcome(problems))
        response.mimetype = "application/fhir+json"
        status = 503
    else:
        checks = {"rules": rules, "database": "ok" if database else "not configured"}
        response = jsonify(status="ready", checks=checks)
        status = 200
    response.headers.update(_NO_STORE)
    return response, status


class StartedWorkersCollector(MultiProcessCollector):  # type: ignore[misc]
    """prometheus_client's multiprocess collector, without the files of a worker that is
    still creating them: a worker's ``.db`` file exists empty for a moment before its
    header is written, and reading it then failed the whole scrape (a 500 from /metrics
    seen right after a worker forked; ``max_requests`` restarts make that recur)."""

    def collect(self) -> Any:
        files = [f for f in glob.glob(os.path.join(self._path, "*.db")) if _started(f)]
        return self.merge(files, accumulate=True)


def _started(path: str) -> bool:
    """The file holds at least its header (the 4-byte count of bytes used)."""
    try:
        return os.path.getsize(path) >= 4
    except OSError:  # removed meanwhile (a dead worker's live gauges)
        return False


def metrics_registry() -> CollectorRegistry:
    """All workers' metrics under gunicorn (multiprocess dir set), else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        StartedWorkersCollector(registry)
        registry.register(_metrics.SERVICE_PROCESSES)
        return registry
    with contextlib.suppress(ValueError):  # registered once per process
        REGISTRY.register(_metrics.SERVICE_PROCESSES)
    return REGISTRY


@blueprint.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST,
                    headers=_NO_STORE)


def init_app(app: Flask) -> None:
    """Register the ops endpoints and the logging/request-id hooks on ``app``."""
    logs.init_app(app)
    app.register_blueprint(blueprint)
    _initialise_metrics()


def _initialise_metrics() -> None:
    """Every known label value at 0 from the start, and the build info."""
    from service.schemas.response import TOPIC_CODES
    from service.services import SERVICES

    _metrics.initialise([(s.id, s.hook) for s in SERVICES.values()], sorted(TOPIC_CODES),
                        [rule.id for rule in RULES])
