"""What ``backpain-cds serve`` checks in the gunicorn configuration it is given.

The project's ``gunicorn.conf.py`` does more than set numbers: it names the service's worker
and logger classes, answers gunicorn's own refusals as OperationOutcomes, sets the header
limit the trust layer relies on, shares the metrics of all workers, and hooks the workers'
start and end (warm-up, frozen heap, the call writer, the log writer). An operator's own
``--config`` file, or GUNICORN_CMD_ARGS, that leaves one of these out still starts (their
choice), but the server says at start what is lost: one JSON warning each (README,
"Deploying": start another configuration from a copy of gunicorn.conf.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

# gunicorn.conf.py's hooks, and what a worker goes without when one is gunicorn's no-op.
HOOKS: dict[str, str] = {
    "on_starting": "the clinical core is not warmed up before forking (a worker's first "
                   "call pays for it) and the heap is not frozen (a collection can pause "
                   "a call)",
    "pre_fork": "the heap is not frozen for workers started later",
    "post_worker_init": "the card and audit writer starts on a worker's first card-producing "
                        "call instead of at start (what a killed worker left in its spool "
                        "waits until then), and log lines are written on the request threads",
    "worker_exit": "a stopping worker's last log lines may be lost",
    "child_exit": "a dead worker's gauges stay in /metrics",
    "on_exit": "the temporary metrics directory is not removed at exit",
}


def configuration_problems(cfg: Any) -> list[str]:
    """One sentence per thing of gunicorn.conf.py that ``cfg`` (gunicorn's loaded
    ``Config``) goes without, saying what is lost; empty when nothing is."""
    return [problem for check in _CHECKS if (problem := check(cfg)) is not None]


def _worker_class(cfg: Any) -> str | None:
    """What is lost when gunicorn is told to use another worker class than the service's
    (``--worker-class`` in GUNICORN_CMD_ARGS, or another ``--config``); None when it is
    the service's (or a subclass of it)."""
    from service.transport import ThreadWorker

    worker_class: type = cfg.worker_class  # gunicorn has loaded the class it names
    if issubclass(worker_class, ThreadWorker):
        return None
    return (f"worker class {worker_class.__module__}.{worker_class.__qualname__} is not "
            "service.transport.ThreadWorker: BACKPAIN_CDS_KEEPALIVE_REQUESTS is ignored "
            "(keep-alive connections are not closed to spread them over the workers), and "
            "a closing connection may stall the worker's other connections")


def _logger_class(cfg: Any) -> str | None:
    from service.logs import GunicornLogger

    logger: type = cfg.logger_class  # gunicorn has loaded the class its setting names
    if issubclass(logger, GunicornLogger):
        return None
    return (f"logger class {logger.__module__}.{logger.__qualname__} is not "
            "service.logs.GunicornLogger: gunicorn's own log lines (start, worker restarts, "
            "its errors) are neither JSON nor scrubbed of tokens")


def _header_limit(cfg: Any) -> str | None:
    from service.transport import LIMIT_REQUEST_FIELD_SIZE
    from service.trust.verify import MAX_TOKEN_BYTES

    limit = cfg.limit_request_field_size
    if limit >= LIMIT_REQUEST_FIELD_SIZE:
        return None
    meaning = " (gunicorn reads 0 or less as its default, 8190)" if limit <= 0 else ""
    return (f"limit_request_field_size is {limit}{meaning}, below "
            f"{LIMIT_REQUEST_FIELD_SIZE}: a header holding a token the trust layer would "
            f"judge (up to {MAX_TOKEN_BYTES // 1024} KiB) is refused by gunicorn with 431 "
            "instead")


def _error_answers(cfg: Any) -> str | None:
    """Not a setting: ``gunicorn.conf.py`` patches gunicorn's error writer when it runs."""
    from gunicorn import util

    from service.transport import write_error

    if util.write_error is write_error:
        return None
    return ("gunicorn's own refusals (a malformed request line or header, headers over the "
            "limits) are answered as HTML pages, not OperationOutcomes "
            "(service.transport.install() not called)")


def _hooks(cfg: Any) -> str | None:
    missing = [name for name in HOOKS
               if getattr(getattr(cfg, name), "__module__", None) == "gunicorn.config"]
    if not missing:
        return None
    return ("gunicorn.conf.py's hooks are not set (" + ", ".join(missing) + "): "
            + "; ".join(HOOKS[name] for name in missing))


def _metrics_directory(cfg: Any) -> str | None:
    """Set in the environment, or given to gunicorn to set in the workers' (``raw_env``,
    ``--env``: gunicorn applies it after the configuration is read)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") or cfg.env.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    return ("PROMETHEUS_MULTIPROC_DIR is not set: /metrics counts only the worker that "
            "answers the scrape")


_CHECKS: tuple[Callable[[Any], str | None], ...] = (
    _worker_class, _logger_class, _header_limit, _error_answers, _hooks, _metrics_directory)
