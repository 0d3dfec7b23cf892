"""Client-side bounds on database operations, and a breaker for the hook path.

A PostgreSQL server that is frozen (SIGSTOP, a hung VM, a partition whose packets the
kernel still acknowledges) enforces no ``statement_timeout`` and breaks no TCP timeout:
the client waits as long as the freeze lasts. So every operation a request waits on runs
in a small thread pool and the request waits at most ``timeout`` seconds for it
(:meth:`Bound.run`); an abandoned operation finishes (or fails) on its own thread when the
server wakes up, its result discarded.

After a failure or a timeout the bound *opens*: for ``cooldown`` seconds operations fail
at once, without touching the database, so that only one call per cooldown pays the
bound while the database is away (``backpain_cds_db_degraded`` is 1 meanwhile). The next
operation after the cooldown probes the database; success closes the bound.

Cost: the hand-off to the pool thread is 30 to 100 µs an operation (more under load:
the waiting request and the pool thread take turns at the GIL). An operation that can
bound its own wait, a query on a connection it already holds whose socket it waits on
with a timeout, runs on the calling thread instead (:meth:`Bound.run_inline`, the
snooze counter read of every card-producing call); only opening a connection, which can
hang in the server's handshake, still goes to the pool (:meth:`Bound.within`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from prometheus_client import Gauge

from service.metrics import DB_TIMEOUTS

log = logging.getLogger(__name__)

T = TypeVar("T")


class Unavailable(RuntimeError):
    """The operation failed, timed out, or was not tried (the bound is open)."""


class Bound:
    """Run operations with a client-side timeout; fail fast for a while after a failure."""

    def __init__(self, name: str, timeout: float, *, cooldown: float = 1.0, threads: int = 8,
                 gauge: Gauge | None = None) -> None:
        self.name = name
        self.timeout = timeout
        self.cooldown = cooldown
        self.threads = threads
        self.gauge = gauge
        self._lock = threading.Lock()
        self._pid = -1
        self._pool: ThreadPoolExecutor | None = None
        self._open_until = 0.0  # monotonic; 0: closed
        self._probing = False

    @property
    def degraded(self) -> bool:
        return self._open_until > 0.0

    def run(self, operation: str, function: Callable[[], T],
            answers: tuple[type[Exception], ...] = ()) -> T:
        """``function()``'s result, or :class:`Unavailable` (its exception chained) when it
        raised, took longer than ``timeout``, or the bound is open. Exceptions of the types
        in ``answers`` are the database's answer (e.g. "unknown card"): raised as they are."""
        return self._guarded(operation, lambda deadline: self.within(function, deadline),
                             answers)

    def run_inline(self, operation: str, function: Callable[[float], T]) -> T:
        """``function(deadline)`` on the calling thread, with :meth:`run`'s breaker: for
        an operation that keeps to ``deadline`` (a ``time.monotonic()`` value) itself and
        raises :class:`TimeoutError` past it. No hand-off to the pool."""
        return self._guarded(operation, function, ())

    def within(self, function: Callable[[], T], deadline: float) -> T:
        """``function()`` on the pool, waited for until ``deadline`` (monotonic), then
        :class:`TimeoutError` (it goes on, abandoned). No breaker: :meth:`run`'s step, and
        a step of an operation that :meth:`run_inline` bounds."""
        try:
            future = self._executor().submit(function)
        except RuntimeError:  # the interpreter is exiting (atexit flush): run it here
            return function()
        try:
            return future.result(max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"{self.name}: no answer within the bound") from None

    def _guarded(self, operation: str, function: Callable[[float], T],
                 answers: tuple[type[Exception], ...]) -> T:
        """The breaker around ``function(deadline)``: not tried while open; a timeout or a
        failure opens it (counted, logged once), a result or an expected answer closes it."""
        if not self._admit():
            raise Unavailable(f"{self.name}: not tried ({operation}; database degraded)")
        try:
            result = function(time.monotonic() + self.timeout)
        except TimeoutError:
            DB_TIMEOUTS.labels(operation=operation).inc()
            self._failed(f"{operation} took longer than {self.timeout:g} s")
            raise Unavailable(f"{self.name}: {operation} timed out") from None
        except answers:
            self._succeeded()
            raise
        except Exception as exc:
            self._failed(f"{operation} failed ({type(exc).__name__})")
            raise Unavailable(f"{self.name}: {operation} failed") from exc
        self._succeeded()
        return result

    def _admit(self) -> bool:
        """Closed: go. Open: only one probe once the cooldown is over."""
        with self._lock:
            if not self._open_until:
                return True
            if self._probing or time.monotonic() < self._open_until:
                return False
            self._probing = True
            return True

    def _failed(self, why: str) -> None:
        with self._lock:
            was_open = bool(self._open_until)
            self._open_until = time.monotonic() + self.cooldown
            self._probing = False
        if not was_open:
            log.warning("database degraded (%s): %s", self.name, why)
            if self.gauge is not None:
                self.gauge.labels(bound=self.name).set(1)

    def _succeeded(self) -> None:
        with self._lock:
            was_open = bool(self._open_until)
            self._open_until = 0.0
            self._probing = False
        if was_open:
            log.warning("database recovered (%s)", self.name)
            if self.gauge is not None:
                self.gauge.labels(bound=self.name).set(0)

    def _executor(self) -> ThreadPoolExecutor:
        """This process's pool (a forked worker inherits no threads: make its own)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pool = ThreadPoolExecutor(self.threads,
                                                    thread_name_prefix=f"bpcd-{self.name}")
                    self._pid = os.getpid()
        assert self._pool is not None
        return self._pool
