"""Log lines written by a thread of their own (the server's workers, issue #15).

Why: a request thread that writes its access line to the stream itself makes a system
call, which lets go of the interpreter lock; under load it then waits for the other
threads' turns (up to the 5 ms switch interval) while holding the logging handler's
lock, and every other thread that logs queues behind it. A profile of a worker under
wrk had a fifth of its request threads' time there. So in the workers a line is still
filtered (redaction needs the request) and formatted on the request thread, then handed
to this writer, which writes whatever has gathered in one call. A worker that stops
normally writes everything first (gunicorn's ``worker_exit`` hook, and at exit); one
killed outright (SIGKILL) may lose the lines of the last :data:`GATHER_SECONDS`, never the
audit (that is in the database and the spool).

Once woken by a line, the writer waits :data:`GATHER_SECONDS` for more before it writes,
so that a line handed over meanwhile wakes nobody. Without that wait every access line
woke the writer thread, and the wake-up (a system call made while holding the
interpreter lock) took 15 % of a loaded worker's interpreter time (py-spy ``--gil``, wrk
c=8, issue #15).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TextIO

_STOP = None
# How long the writer gathers lines after the first one of a batch: a worker's lines reach
# the log up to this much later (stop() still writes every line given before it).
GATHER_SECONDS = 0.05


class LineWriter:
    """Writes the lines :meth:`put` is given to ``stream_of()``, in order, on its thread."""

    def __init__(self, stream_of: Callable[[], TextIO]) -> None:
        self._stream_of = stream_of
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._stop_asked = threading.Event()  # cuts the gathering short
        self._thread = threading.Thread(target=self._run, name="backpain-log-writer",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, line: str) -> None:
        self._lines.put(line)

    def stop(self, timeout: float = 5.0) -> None:
        """Write every line given so far, then end the thread (idempotent)."""
        if self._thread.is_alive():
            self._stop_asked.set()
            self._lines.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch, stop = self._gather()
            if batch:
                try:
                    stream = self._stream_of()
                    stream.write("".join(batch))
                    stream.flush()
                except Exception:  # a broken stream must not end the writer
                    pass
            if stop:
                return

    def _gather(self) -> tuple[list[str], bool]:
        """The next line (waiting for it) and all queued behind it within
        :data:`GATHER_SECONDS`; True as the second value once stop() was asked."""
        batch: list[str] = []
        line = self._lines.get()
        if line is not _STOP:
            self._stop_asked.wait(GATHER_SECONDS)  # lines put meanwhile wake nobody
        while line is not _STOP:
            batch.append(line)
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True
