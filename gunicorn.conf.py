"""gunicorn settings for backpain-cds: ``backpain-cds serve``, ``make run`` and the image.

Precedence (gunicorn's own): this file < ``GUNICORN_CMD_ARGS`` < command-line flags, so an
operator can change any value here without a new image. The BACKPAIN_CDS_* configuration
is validated before anything else: a bad variable stops start-up with exit status 2 and a
message that names it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.config import ConfigError, Settings, load_settings
from service.runtime import tune_collector

try:
    _settings: Settings = load_settings()
except ConfigError as _error:
    print(f"configuration error: {_error}", file=sys.stderr)
    sys.exit(2)


def _usable_cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may use: its affinity mask, lowered by a cgroup v2 CPU quota.

    os.cpu_count() reports the host's CPUs; a pod limited to 1 CPU on a 64-core node
    would otherwise start 129 workers.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))  # ceiling
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def _default_workers() -> int:
    explicit = _settings.workers or int(os.environ.get("WEB_CONCURRENCY", "0") or 0)
    return explicit or min(2 * _usable_cpus() + 1, 8)


# --- what to serve and where -------------------------------------------------------------
wsgi_app = "service.app:create_app()"
# Loopback for `make run`; all interfaces on $PORT where it is set (the image sets 8080).
bind = [f"0.0.0.0:{os.environ['PORT']}"] if os.environ.get("PORT") else ["127.0.0.1:8080"]
proc_name = "backpain-cds"

# --- workers -----------------------------------------------------------------------------
# Worker class chosen by measurement: `python -m benchmarks.worker_class --seconds 8`, the
# real server with 3 workers under wrk -t2 -c32 on this 2-core machine, which other jobs
# shared (load average 4-10: read the ratios, not the absolute numbers). Scenario
# ces-faecal-incontinence-snomed; "fetch": observations not prefetched, read from a
# loopback FHIR server that answers in 40 ms; "prefetched": pure CPU. req/s over 4 runs
# (3 for sync), mean [min-max]:
#                          fetch (FHIR read, 40 ms)     prefetched (pure CPU)
#   sync                    46 [33-55]                  114 [58-170]
#   gthread, 4 threads     128 [71-172]                 271 [131-333]
#   gthread, 8 threads     171 [114-215]                303 [141-419]
# A sync worker sits idle for the whole FHIR round trip and closes every connection (the
# proxy's keep-alive is lost); gthread overlaps the waits of several calls in one process,
# the GIL being released while a thread waits on its socket. 8 threads beat 4 on average
# in both columns; more would mostly queue CPU-bound evaluations on the GIL and multiply
# the memory of large requests held at once. Override: GUNICORN_CMD_ARGS="--threads=N".
# The benchmark's setting (2 workers, wrk c=8, `--workers 2 --connections 8 --seconds 6`,
# quiet machine, after the hook path stopped writing on the request thread):
#                          fetch req/s  p99             prefetched req/s  p99
#   sync                    44          271 ms           972              14.5 ms
#   gthread, 2 threads      85          122 ms           978              14.7 ms
#   gthread, 4 threads     172           57 ms          1061              31.6 ms
#   gthread, 8 threads     160           64 ms           889              34.3 ms
# At c=8 more than 2 threads only queue prefetched calls on the GIL (p99 doubles, issue 8
# wants <= 25 ms), while fetch calls want 4+: the trade-off behind --threads.
# These runs predate KEEPALIVE_REQUESTS (service/transport.py): wrk's connections then
# stayed on whichever worker accepted them, often one, so read them as single-worker runs.
# Re-measured with the connections spread over both workers (same command, 6 s each, an
# AMD machine, 3 December 2026):
#                          fetch req/s  p99             prefetched req/s  p99
#   sync                    40          323 ms           615              23 ms
#   gthread, 2 threads      80          161 ms           264              45 ms
#   gthread, 4 threads      90          134 ms           560              45 ms
#   gthread, 8 threads     130           95 ms           514              44 ms
# 8 threads stay: by far the best with FHIR fetches, and as good as 4 on CPU-bound calls.
# Those calls' p99 at c=8 is the interpreter lock shared by a worker's concurrent calls
# (any thread count: 44 ms); only one call at a time per process (sync) halves it.
workers = _default_workers()
worker_class = "service.transport.ThreadWorker"  # gthread; see service/transport.py
threads = 8

# --- start-up: load once in the master, warm the clinical core, then fork ------------------
preload_app = True

# --- timeouts ----------------------------------------------------------------------------
# A hook call is bounded by FHIR_DEADLINE_SECONDS (2.5 s by default) plus evaluation; a
# worker silent for `timeout` is stuck and is killed. On SIGTERM, workers finish the calls
# they hold for up to graceful_timeout: below Kubernetes' default 30 s grace period.
timeout = 30
graceful_timeout = 20
keepalive = 75  # longer than the proxy's idle timeout (nginx upstream keepalive: 60 s)

# --- recycle workers now and then (bounds slow leaks; jitter avoids restarting together) -
max_requests = 5000
max_requests_jitter = 500

# --- logs --------------------------------------------------------------------------------
# One JSON line per request is written by the app itself (service/logs.py) with the request
# id and hookInstance, and the path without its query string; gunicorn's own access log
# stays off so lines are not doubled. Its format, for an operator who turns it on with
# --access-logfile=-, also leaves the query string out (%(U)s, not %(r)s).
accesslog = None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
errorlog = "-"
loglevel = _settings.log_level.lower()
logger_class = "service.logs.GunicornLogger"

# --- proxies -----------------------------------------------------------------------------
# X-Forwarded-Proto and friends are believed only from BACKPAIN_CDS_TRUSTED_PROXIES (none
# by default), never from whoever connects.
forwarded_allow_ips = ",".join(_settings.trusted_proxies)

# --- read-only root filesystem -------------------------------------------------------------
# Worker heartbeats go to memory, and no control socket is made under $HOME.
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
control_socket_disable = True


# --- Prometheus across workers -------------------------------------------------------------
def _metrics_dir() -> str:
    """An empty directory for prometheus_client's per-process files (set before any metric).

    If the operator named one in PROMETHEUS_MULTIPROC_DIR it is emptied once per master
    (files of an earlier run would be added to this run's counts); otherwise a fresh
    temporary directory is made and removed on exit.
    """
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and os.environ.get("_BACKPAIN_CDS_METRICS_OWNER") != str(os.getpid()):
        Path(path).mkdir(parents=True, exist_ok=True)
        for stale in Path(path).glob("*.db"):
            stale.unlink()
    elif not path:
        path = tempfile.mkdtemp(prefix=f"backpain-cds-metrics-{os.getpid()}-")
        os.environ["_BACKPAIN_CDS_METRICS_TEMP"] = path
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    os.environ["_BACKPAIN_CDS_METRICS_OWNER"] = str(os.getpid())
    import prometheus_client.values

    # prometheus_client picks its value class when first imported; if it was imported
    # before this file ran, pick again now that the directory is set.
    prometheus_client.values.ValueClass = prometheus_client.values.get_value_class()
    return path


_metrics_dir()


# --- transport errors ----------------------------------------------------------------------
# gunicorn's own refusals (bad request line, header or chunk size, NUL in a header, request
# line or headers over the limits) are answered as OperationOutcomes, not HTML pages; and a
# header may hold a token as large as the verifier accepts (16 KiB), so that such a token
# gets the trust layer's 401 and only a larger header gets 431.
from service import transport  # noqa: E402  (after the metrics directory: it imports them)

limit_request_field_size = transport.LIMIT_REQUEST_FIELD_SIZE
transport.install()
# Keep-alive connections are closed after this many requests, so that they spread over the
# workers (service/transport.py: the worker takes the app's own setting; this default, set
# in the master before the workers are forked, serves an app without the service's settings).
transport.KEEPALIVE_REQUESTS = _settings.keepalive_requests


# --- hooks -------------------------------------------------------------------------------
_WARM_UP_RESOURCES: tuple[dict[str, Any], ...] = (
    {"resourceType": "Patient", "id": "warm-up", "gender": "female", "birthDate": "1960-01-01"},
    {"resourceType": "Condition", "id": "warm-up-lbp", "subject": {"reference": "Patient/warm-up"},
     "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                              "condition-clinical", "code": "active"}]},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "23056005",
                          "display": "Sciatica"}]},
     "onsetDateTime": "2026-01-01"},
    {"resourceType": "Observation", "id": "warm-up-temp", "status": "final",
     "subject": {"reference": "Patient/warm-up"},
     "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
     "effectiveDateTime": "2026-01-02T08:00:00Z",
     "valueQuantity": {"value": 37.0, "unit": "Cel", "system": "http://unitsofmeasure.org",
                       "code": "Cel"}},
)


def warm_up(log: Any) -> None:
    """Import the clinical core, compile its value sets and evaluate one small record.

    Done in the master before forking, so every worker starts with the work done (and
    shares those pages copy-on-write) instead of paying for it on its first hook call.
    """
    started = time.perf_counter()
    try:
        import cds_rules
        from service.ops import rule_count

        with contextlib.suppress(ImportError):  # compiles the value sets at import
            importlib.import_module("cds_rules.valuesets")
        sample = cds_rules.HookRequest(hook="patient-view", patient_id="warm-up",
                                       resources=_WARM_UP_RESOURCES)
        evaluation = cds_rules.evaluate(sample, datetime.now(UTC), _settings.rule_settings())
        log.info("clinical core warmed up: %d rules, %d cards, %.0f ms", rule_count(),
                 len(evaluation.cards), (time.perf_counter() - started) * 1000)
    except Exception:  # a core that cannot evaluate shows on /readyz; do not hide it here
        log.exception("clinical core warm-up failed")


def freeze_heap() -> None:
    """Move every object alive now (modules, value sets, fhir.resources models: ~140,000
    objects) out of the garbage collector's reach, in the master just before forking.

    A full collection otherwise walks all of them now and then in the middle of a hook
    call: measured on the 1 MB patient in process, p99 110-145 ms without, 11-35 ms with.
    It also keeps the collector from touching (and so un-sharing) the pages the workers
    inherit copy-on-write. Objects made later are collected as usual.
    """
    gc.freeze()


# glibc mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 1024 * 1024


def return_large_buffers() -> bool:
    """Give buffers of 1 MiB and more (a large body, its parsed copy's scratch space, the
    depth check's re-serialisation) back to the system when freed, in every worker.

    glibc raises its mmap threshold (up to 32 MiB) after the first such buffer is freed, so
    later ones come from the heap of whichever of the worker's thread arenas served them,
    and stay there: measured with 4 calls carrying a 7.9 MiB body on new connections after
    load, a worker's peak RSS reached 190-230 MB; with the threshold fixed, 170 MB (the
    cost: a page fault per 4 KiB of such a buffer, which a body that large pays anyway).
    Set in the master before forking; elsewhere than glibc (musl), nothing to do."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return bool(libc and libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


def on_starting(server: Any) -> None:
    from service.preflight import display_url

    # Absolute, so that "which database is this server using?" has one answer in the log.
    server.log.info("database: %s", display_url(_settings.database_url))
    warm_up(server.log)
    return_large_buffers()
    tune_collector()
    freeze_heap()


def pre_fork(server: Any, worker: Any) -> None:
    freeze_heap()  # also for workers re-spawned later (max_requests)


def post_worker_init(worker: Any) -> None:
    """Start the worker's card/audit writer at once: it replays what earlier processes
    (a worker killed with SIGKILL, a replica stopped while the database was away) left in
    the spool, without waiting for a first call."""
    from service.logs import write_in_background
    from service.store import start_writer

    start_writer(worker.wsgi)
    write_in_background()  # request threads hand their log lines to a thread of its own
    # What the master tuned before forking, as this worker inherited it (operators and
    # tests read it here: a worker without it pauses mid-call, see service.runtime).
    worker.log.info("worker runtime: gc thresholds %s, %d objects frozen",
                    gc.get_threshold(), gc.get_freeze_count())


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, as it stops: its last log lines are written before it exits."""
    from service.logs import stop_background_writing

    stop_background_writing()


def child_exit(server: Any, worker: Any) -> None:
    """Fold a dead worker's gauges away (its counters stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    temporary = os.environ.get("_BACKPAIN_CDS_METRICS_TEMP")
    if temporary:
        shutil.rmtree(temporary, ignore_errors=True)
