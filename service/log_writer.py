"""Log lines written by a thread of their own (the server's workers, issue #15).

Why: a request thread that writes its access line to the stream itself makes a system
call, which lets go of the interpreter lock; under load it then waits for the other
threads' turns (up to the 5 ms switch interval) while holding the logging handler's
lock, and every other thread that logs queues behind it. A profile of a worker under
wrk had a fifth of its request threads' time there. So in the workers a line is still
filtered (redaction needs the request) and formatted on the request thread, then handed
to this writer, which writes whatever has gathered in one call. A worker that stops
normally writes everything first (gunicorn's ``worker_exit`` hook, and at exit); one
killed outright (SIGKILL) may lose the last few milliseconds of lines, never the audit
(that is in the database and the spool).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TextIO

_STOP = None


class LineWriter:
    """Writes the lines :meth:`put` is given to ``stream_of()``, in order, on its thread."""

    def __init__(self, stream_of: Callable[[], TextIO]) -> None:
        self._stream_of = stream_of
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="backpain-log-writer",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, line: str) -> None:
        self._lines.put(line)

    def stop(self, timeout: float = 5.0) -> None:
        """Write every line given so far, then end the thread (idempotent)."""
        if self._thread.is_alive():
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
        """The next line (waiting for it) and all that are already queued behind it."""
        batch: list[str] = []
        line = self._lines.get()
        while line is not _STOP:
            batch.append(line)
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True
