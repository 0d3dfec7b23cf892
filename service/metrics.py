"""Prometheus metrics: one definition each, incremented by the module that knows the event.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does)
so that ``/metrics`` aggregates every worker.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.pool import Pool

# Multiprocess mode writes a file per process as soon as an unlabelled metric is defined
# (below): a PROMETHEUS_MULTIPROC_DIR that does not exist yet would crash every command
# with a traceback. gunicorn.conf.py makes it for the server; make it here for the rest.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    with contextlib.suppress(OSError):  # unwritable: prometheus_client says so itself
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter(
    "backpain_cds_requests_total", "HTTP requests by service, hook and status",
    ["service", "hook", "status"],
)
REQUEST_LATENCY = Histogram(
    "backpain_cds_request_seconds", "Request latency by service and hook",
    ["service", "hook"], buckets=LATENCY_BUCKETS,
)
CARDS = Counter("backpain_cds_cards_total", "Cards returned by topic and indicator",
                ["topic", "indicator"])
CARDS_SUPPRESSED = Counter("backpain_cds_cards_suppressed_total", "Cards hidden by a snooze",
                           ["topic"])
FHIR_FETCH_LATENCY = Histogram(
    "backpain_cds_fhir_fetch_seconds", "Latency of one FHIR query", ["resource_type"],
    buckets=LATENCY_BUCKETS,
)
FHIR_FETCH_FAILURES = Counter("backpain_cds_fhir_fetch_failures_total",
                              "FHIR fetches that failed, by reason", ["reason"])
JWT_REJECTIONS = Counter("backpain_cds_jwt_rejections_total", "Rejected JWTs by reason",
                         ["reason"])
DB_ERRORS = Counter("backpain_cds_db_errors_total", "Database errors by operation",
                    ["operation"])
RESOURCES_DROPPED = Counter("backpain_cds_resources_dropped_total",
                            "Resources not reasoned over, by reason", ["reason"])
RULE_FAILURES = Counter("backpain_cds_rule_failures_total",
                        "Rules that raised on a record: a bug, expected to stay at zero (a "
                        "red-flag rule's card then asks for a manual assessment)", ["rule"])
CORE_FAULT_CALLS = Counter("backpain_cds_core_fault_calls_total",
                           "Hook calls on which a record reader or a rule raised: a bug, "
                           "expected to stay at zero", ["hook"])
CARDS_INVALID = Counter("backpain_cds_cards_invalid_total",
                        "Cards (or system actions) dropped for breaking a CDS Hooks response "
                        "rule: a bug, expected to stay at zero", ["topic"])


# A metric's child for a set of label values, found once per process: ``labels()`` checks
# its arguments, sorts the names, converts each value and takes a lock on every call
# (several times a hook call). prometheus_client itself keeps every child it made for
# good (nothing here removes one), so this holds no more than it does.
_CHILDREN: dict[tuple[object, tuple[str, ...]], Any] = {}


def labelled(metric: MetricWrapperBase, *values: str) -> Any:
    """``metric.labels(*values)`` (values in the order of the metric's label names)."""
    key = (metric, values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN.setdefault(key, metric.labels(*values))
    return child


# --- build info, pre-initialised label values, DB pool and process metrics (issue 17) ----

BUILD_INFO = Gauge("backpain_cds_build_info", "Always 1; the labels say what is running",
                   ["version", "python"], multiprocess_mode="max")
DB_POOL_CONNECTIONS = Gauge(
    "backpain_cds_db_pool_connections", "Database connections held by the pools of every "
    "worker, by state (open: connected; checked_out: in use by a request or the writer)",
    ["state"], multiprocess_mode="livesum")

DB_OPERATIONS = ("ping", "claim_jti", "remember_jtis", "suppress_snoozed", "record_call",
                 "feedback", "report", "purge")

# The label values known in advance. Initialised at start, so that a failure counter is 0
# rather than absent until its first event: an alert on rate() then sees "no failures", and
# a renamed metric shows up as absent() instead of passing for healthy.
KNOWN_LABELS: dict[Counter, list[dict[str, str]]] = {
    JWT_REJECTIONS: [{"reason": r} for r in (
        "missing-token", "malformed-header", "malformed-token", "token-too-large",
        "alg-not-allowed", "typ-invalid", "crit-unsupported", "kid-missing", "iss-missing",
        "iss-untrusted", "jku-not-allowed", "jwks-unavailable", "key-alg-mismatch",
        "bad-signature", "claims-invalid", "aud-mismatch", "expired", "iat-future",
        "nbf-future", "tenant-mismatch", "jti-missing", "replay", "replay-store-unavailable",
        "verify-error")],
    DB_ERRORS: [{"operation": o} for o in DB_OPERATIONS],
    FHIR_FETCH_FAILURES: [{"reason": r} for r in (
        "fhirServer not allowed", "bad token", "deadline", "timeout", "unreachable",
        "unauthorized", "forbidden", "not found", "malformed", "too large", "error")],
    RESOURCES_DROPPED: [{"reason": r} for r in ("invalid", "other-patient", "reader-fault")],
    CARDS_INVALID: [{"topic": t} for t in ("systemAction", "none", "invalid")],
}


FETCHED_TYPES = ("Patient", "Condition", "Observation", "MedicationRequest",
                 "MedicationStatement", "ServiceRequest", "Procedure", "DiagnosticReport",
                 "ImagingStudy")


def initialise(services: list[tuple[str, str]], topics: list[str], rules: list[str]) -> None:
    """Create every known label combination at 0 and set the build info. ``services``:
    (service id, hook) of each CDS service; ``topics``: the card topic codes; ``rules``:
    the rule ids."""
    for counter, label_sets in KNOWN_LABELS.items():
        for labels in label_sets:
            counter.labels(**labels)
    for rule in rules:
        RULE_FAILURES.labels(rule=rule)
    for topic in topics:
        CARDS_INVALID.labels(topic=topic)
        CARDS_SUPPRESSED.labels(topic=topic)
        for indicator in ("critical", "warning", "info"):
            CARDS.labels(topic=topic, indicator=indicator)
    for resource_type in FETCHED_TYPES:
        FHIR_FETCH_LATENCY.labels(resource_type=resource_type)
    for _service, hook in services:
        CORE_FAULT_CALLS.labels(hook=hook)
    for service, hook in [*services, ("discovery", "none")]:
        REQUEST_LATENCY.labels(service=service, hook=hook)
        for status in ("200", "500"):
            REQUESTS.labels(service=service, hook=hook, status=status)
    BUILD_INFO.labels(version=_version(), python=platform.python_version()).set(1)
    for state in ("open", "checked_out"):
        DB_POOL_CONNECTIONS.labels(state=state)
    for operation in DB_OPERATIONS:  # defined below, with the other fault metrics (#13)
        DB_TIMEOUTS.labels(operation=operation)
    _watch_pools()


def _version() -> str:
    try:
        return importlib.metadata.version("backpain-cds")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_pools_watched = False


def _watch_pools() -> None:
    """Count connections of every SQLAlchemy pool in this process (class-level pool
    events: no change to how engines are made)."""
    global _pools_watched
    if _pools_watched:
        return
    _pools_watched = True
    gauge = DB_POOL_CONNECTIONS
    event.listen(Pool, "connect", lambda *_: labelled(gauge, "open").inc())
    event.listen(Pool, "close", lambda *_: labelled(gauge, "open").dec())
    event.listen(Pool, "close_detached", lambda *_: labelled(gauge, "open").dec())
    event.listen(Pool, "checkout", lambda *_: labelled(gauge, "checked_out").inc())
    event.listen(Pool, "checkin", lambda *_: labelled(gauge, "checked_out").dec())


class ServiceProcesses(Collector):
    """CPU, memory and open files of the gunicorn master and each worker, read from /proc
    when scraped. prometheus_client's own ``process_*`` metrics are lost in multiprocess
    mode (they would describe only the worker that answers the scrape)."""

    def collect(self) -> Iterator[Metric]:
        labels = ["role", "pid"]
        cpu = CounterMetricFamily("backpain_cds_process_cpu_seconds_total",
                                  "User and system CPU time by process", labels=labels)
        rss = GaugeMetricFamily("backpain_cds_process_resident_memory_bytes",
                                "Resident memory by process", labels=labels)
        fds = GaugeMetricFamily("backpain_cds_process_open_fds", "Open file descriptors by "
                                "process", labels=labels)
        processes = _service_processes()
        for role, pid in processes:
            stat = _proc_stat(pid)
            if stat is None:
                continue  # exited meanwhile
            cpu.add_metric([role, str(pid)], stat[0])
            rss.add_metric([role, str(pid)], stat[1])
            with contextlib.suppress(OSError):
                fds.add_metric([role, str(pid)], len(os.listdir(f"/proc/{pid}/fd")))
        workers = GaugeMetricFamily("backpain_cds_workers", "Worker processes alive",
                                    value=sum(role == "worker" for role, _ in processes))
        yield from (cpu, rss, fds, workers)


def _service_processes() -> list[tuple[str, int]]:
    """(role, pid): under gunicorn (multiprocess metrics) the master and its children,
    else this process alone."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return [("single", os.getpid())]
    master = os.getppid()
    children = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            if stat and stat.rpartition(")")[2].split()[1] == str(master):
                children.append(("worker", int(entry)))
    return [("master", master), *children]


def _proc_stat(pid: int) -> tuple[float, float] | None:
    """(CPU seconds, resident bytes) of ``pid`` from /proc, or None."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return cpu, int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


SERVICE_PROCESSES = ServiceProcesses()


# --- faults (issue 13): what the service does while the database misbehaves -------------
# Every one has a label: the CLI imports this module before gunicorn.conf.py names the
# multiprocess directory, and only label children made later write to it.
DB_DEGRADED = Gauge("backpain_cds_db_degraded",
                    "1 while this worker skips the database after a failure or a timeout "
                    "(bound=hook: snoozes not read, replays checked in memory)", ["bound"],
                    multiprocess_mode="max")
DB_TIMEOUTS = Counter("backpain_cds_db_timeouts_total",
                      "Database operations abandoned at the client-side bound, by operation",
                      ["operation"])
REPLAY_DEGRADED = Gauge("backpain_cds_replay_store_degraded",
                        "1 while this worker checks JWT ids in its own memory only (the shared "
                        "replay store is unavailable)", ["fallback"], multiprocess_mode="max")
REPLAY_LOCAL_CLAIMS = Counter("backpain_cds_replay_local_claims_total",
                              "JWT ids checked in the worker's memory only (shared store "
                              "unavailable)", ["fallback"])
WRITER_QUEUED = Gauge("backpain_cds_writer_queued",
                      "Hook calls whose cards and audit wait in memory for the database",
                      ["writer"], multiprocess_mode="livesum")
WRITER_SPOOLED = Gauge("backpain_cds_writer_spooled",
                       "Hook calls held in the local spool file (appended before each answer; "
                       "emptied once all of it is in the database)", ["writer"],
                       multiprocess_mode="livesum")
WRITER_RETRIES = Counter("backpain_cds_writer_retries_total",
                         "Failed attempts to write a batch of cards and audit (retried)",
                         ["operation"])
WRITER_SPOOL_CALLS = Counter("backpain_cds_writer_spool_calls_total",
                             "Hook calls the database did not take at once (spooled) and "
                             "spooled calls later written (replayed)", ["event"])
LARGE_CALLS = Counter("backpain_cds_large_calls_total",
                      "Hook calls with a large body (LARGE_BODY_BYTES or more), by outcome: "
                      "admitted to one of the worker's slots, or refused (503) after waiting",
                      ["outcome"])


def initialise_faults() -> None:
    """The fault metrics at 0 from the start (called by the app, once the multiprocess
    directory is set): an alert on them sees "no fault" rather than nothing."""
    DB_DEGRADED.labels(bound="hook").set(0)
    REPLAY_DEGRADED.labels(fallback="worker-memory").set(0)
    REPLAY_LOCAL_CLAIMS.labels(fallback="worker-memory")
    WRITER_QUEUED.labels(writer="calls").set(0)
    WRITER_SPOOLED.labels(writer="calls").set(0)
    WRITER_RETRIES.labels(operation="record_call")
    for kind in ("spooled", "replayed"):
        WRITER_SPOOL_CALLS.labels(event=kind)
    for operation in ("claim_jti", "suppress_snoozed", "feedback", "ping", "record_call"):
        DB_TIMEOUTS.labels(operation=operation)
    for outcome in ("admitted", "refused"):
        LARGE_CALLS.labels(outcome=outcome)
