"""The background writer of hook calls' rows: spooled first, never dropped."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from service import spool as spool_format
from service.metrics import (
    DB_ERRORS,
    WRITER_QUEUED,
    WRITER_RETRIES,
    WRITER_SPOOL_CALLS,
    WRITER_SPOOLED,
    labelled,
)
from service.spool import Spool
from service.store.errors import StoreUnavailable
from service.store.values import CallRecord

if TYPE_CHECKING:
    from service.store.repository import Store

log = logging.getLogger(__name__)


class CallWriter:
    """Writes the hook path's records (issued cards, audit) from a background thread, and
    never drops one.

    Why a thread: on the hook path the write was a transaction per call that, on SQLite,
    waits for the one writer lock shared by every gunicorn worker; under load those waits
    were the tail of the hook latency. The request thread only appends the prepared rows to
    this process's spool file (one ``write``: a killed process loses nothing it answered,
    :mod:`service.spool`) and queues them; one thread per process writes whatever has
    queued up in one transaction.

    When the database refuses a batch (down, frozen past the writer's bound, locked) the
    writer retries it with backoff (RETRY_DELAYS_S); past that the batch stays in the spool
    only, and the whole spool is replayed as soon as a write succeeds again (and every
    RETRY_SPOOL_S meanwhile). The spool file is emptied whenever everything in it is known
    to be written. ``flush`` returns once everything queued before it is written or
    spooled. ``backpain_cds_writer_queued`` / ``_spooled`` show what waits, and
    ``backpain_cds_writer_retries_total``, ``backpain_cds_writer_spool_calls_total{event}``
    the failed attempts and the calls spooled and replayed.
    """

    MAX_PENDING = 10_000  # in memory; past that, calls wait in the spool only
    MAX_BATCH = 500
    EXIT_FLUSH_S = 10.0
    IDLE_EXIT_S = 10.0  # an idle thread ends (and the next call starts one)
    RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4)
    RETRY_SPOOL_S = 1.0  # while the spool holds calls: how often to try to replay it
    # After the first record of a batch, wait this long for more: one transaction then
    # carries the calls of that period (fewer BEGIN/COMMIT, fewer writer-lock turns across
    # workers). flush() cuts the wait short.
    BATCH_WAIT_S = 0.05

    def __init__(self, store: Store, spool: Spool | None = None) -> None:
        self.store = store
        self.spool = spool or Spool(spool_format.default_dir(
            store.engine.url.render_as_string(hide_password=False)))
        self._start_lock = threading.Lock()
        self._pid: int | None = None  # the process this state belongs to (gunicorn forks)
        self._queue: deque[CallRecord] = deque()
        self._progress = threading.Condition()
        self._hurry = threading.Event()
        self._running = False
        self._queued = 0
        self._done = 0
        self._backlog = False  # the spool holds calls the database has not taken
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, record: CallRecord) -> None:
        """Spool and queue one call's rows; never blocks on the database, never raises.

        The spool's write (a system call) is made outside the writer's lock: a thread that
        lets go of the interpreter lock while holding the writer's made every other call
        queue behind it (issue #15). Queued first, then spooled: the writer may store the
        call and empty the spool before its line lands, leaving a line for a call already
        stored, which a replay skips; never a stored-nowhere call."""
        self._adopt_process()
        line = spool_format.encode(record.issued, record.audit)
        with self._progress:  # also held by an idle thread deciding to end: none is lost
            queued = len(self._queue) < self.MAX_PENDING
            if queued:
                self._queue_locked(record)
        spooled = self.spool.append(line)
        if not queued:
            with self._progress:
                if spooled:
                    self._backlog = True  # waits in the spool only, replayed from there
                    self._queued += 1
                    self._done += 1
                    self._start_locked()
                    self._progress.notify_all()
                else:
                    self._queue_locked(record)  # no room, no spool: memory it is
        labelled(WRITER_QUEUED, "calls").set(len(self._queue))

    def _queue_locked(self, record: CallRecord) -> None:
        self._queue.append(record)
        self._queued += 1
        self._start_locked()
        self._progress.notify_all()

    def start(self) -> None:
        """Start the writer thread if it is not running (it replays the spool first)."""
        self._adopt_process()
        with self._progress:
            self._start_locked()

    def _start_locked(self) -> None:
        if not self._running:
            self._thread = threading.Thread(target=self._run, name="backpain-call-writer",
                                            daemon=True)
            self._thread.start()
            self._running = True

    def stop(self, timeout: float = 5.0) -> None:
        """Write (or spool) what is queued, then end the thread (the store is closing)."""
        self.flush(timeout)
        thread = self._thread
        self._stopping = True
        with self._progress:
            self._progress.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """A writer thread is alive in this process (it ends after IDLE_EXIT_S idle)."""
        return self._pid == os.getpid() and self._running

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued before this call is written or spooled (the
        database refused it); False if ``timeout`` seconds passed first."""
        if self._pid != os.getpid():
            return True  # nothing was queued in this process
        self._hurry.set()
        with self._progress:
            target = self._queued
            return self._progress.wait_for(lambda: self._done >= target, timeout)

    def _adopt_process(self) -> None:
        """First use in this process (a forked worker inherits no thread): start afresh."""
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._queue = deque()
            self._progress = threading.Condition()
            self._hurry = threading.Event()
            self._running = False
            self._queued = self._done = 0
            self._backlog = True  # earlier processes may have left calls in the spool
            self._thread, self._stopping = None, False
            atexit.register(self.flush, self.EXIT_FLUSH_S)
            self._pid = os.getpid()

    def _run(self) -> None:
        self._replay(own=False)  # what processes that are gone left (ours is in the queue)
        while not self._stopping:
            batch = self._next_batch()
            if batch is None:
                return
            if batch:
                written = self._write(batch)
                with self._progress:
                    self._done += len(batch)
                    # before flush() can return: it then shows what still waits
                    labelled(WRITER_QUEUED, "calls").set(len(self._queue))
                    self._progress.notify_all()
                if not written:
                    continue
            if self._backlog:
                self._replay()
            with self._progress:  # the order submit() takes the locks in
                self.spool.clear_if(lambda: not self._queue and not self._backlog)
        with self._progress:
            self._running = False

    def _next_batch(self) -> list[CallRecord] | None:
        """The next batch; [] when it is time to retry the spool; None: end the thread."""
        with self._progress:
            wait = self.RETRY_SPOOL_S if self._backlog else self.IDLE_EXIT_S
            if not self._queue and not self._progress.wait_for(
                    lambda: self._queue or self._stopping, wait):
                if self._backlog:
                    return []
                self._running = False
                return None
            if self._stopping and not self._queue:
                self._running = False
                return None
        self._hurry.wait(self.BATCH_WAIT_S)
        self._hurry.clear()
        with self._progress:
            count = min(len(self._queue), self.MAX_BATCH)
            return [self._queue.popleft() for _ in range(count)]

    def _write(self, batch: list[CallRecord]) -> bool:
        """Write ``batch``, retrying with backoff; False if it stays in the spool only."""
        delays = () if self._backlog else self.RETRY_DELAYS_S
        for delay in (*delays, None):
            try:
                self.store._bounded(self.store.writer_bound, "record_call",
                                    lambda: self.store.write_calls(batch, replay=True))
                return True
            except StoreUnavailable:
                WRITER_RETRIES.labels(operation="record_call").inc()
            except Exception as exc:  # a bug must not stop the writer
                DB_ERRORS.labels(operation="record_call").inc()
                log.error("record_call failed for %d calls (%s)", len(batch),
                          type(exc).__name__)
            if delay is not None:
                time.sleep(delay)
        self._backlog = True
        WRITER_SPOOL_CALLS.labels(event="spooled").inc(len(batch))
        WRITER_SPOOLED.labels(writer="calls").set(self.spool.lines)
        log.warning("record_call: the database did not take %d calls; they wait in the "
                    "spool until it does", len(batch))
        return False

    def _replay(self, own: bool = True) -> None:
        """Write every call in the spool: this process's file (``own``), then those of
        processes that are gone. Clears the backlog when all of it is in the database."""
        try:
            records = _decoded(self.spool.own_lines()) if own else []
            for chunk in _chunks(records, self.MAX_BATCH):
                self._replay_chunk(chunk)
            for path, fd in self.spool.orphans():
                try:
                    for chunk in _chunks(_decoded(self.spool.read(fd)), self.MAX_BATCH):
                        self._replay_chunk(chunk)
                except BaseException:
                    os.close(fd)  # left for a later replay
                    raise
                self.spool.discard(path, fd)
        except StoreUnavailable:
            return  # still away: the spool keeps everything
        except OSError as exc:
            log.error("spool replay failed (%s)", type(exc).__name__)
            return
        self._backlog = False
        WRITER_SPOOLED.labels(writer="calls").set(0)

    def _replay_chunk(self, chunk: list[CallRecord]) -> None:
        written = self.store._bounded(self.store.writer_bound, "record_call",
                                      lambda: self.store.write_calls(chunk, replay=True))
        if written:
            WRITER_SPOOL_CALLS.labels(event="replayed").inc(written)
            log.info("spool replay: wrote %d calls the database had not taken", written)


def _decoded(lines: list[bytes]) -> list[CallRecord]:
    records = []
    for line in lines:
        decoded = spool_format.decode(line)
        if decoded is not None:
            records.append(CallRecord(issued=decoded[0], audit=decoded[1]))
    return records


def _chunks(records: list[CallRecord], size: int) -> Iterator[list[CallRecord]]:
    for start in range(0, len(records), size):
        yield records[start:start + size]

