"""How many large hook calls one worker process evaluates at once.

Why: a call's memory grows with its body. An 8 MiB body (the default limit) takes about
85 MB while it is parsed, read into a record and evaluated, so a worker's peak stays under
200 MB with one such call (issue #15) but not with several: two at once measured 282 MB,
and a worker runs 8 threads. So a call whose body is large (``LARGE_BODY_BYTES`` or more
declared, or no length declared: chunked) first takes one of the worker's
``LARGE_CALLS_PER_WORKER`` slots, held until its answer is built; small calls never wait.
A large call that finds no slot within ``LARGE_CALL_WAIT_SECONDS`` is answered 503 with
``Retry-After`` (an OperationOutcome), never left to exhaust the worker's memory. A body
declared larger than the body limit takes no slot: it is refused (413) without being read.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from service.errors import ServiceError
from service.metrics import LARGE_CALLS


class LargeCallGate:
    """The worker's slots for large calls (a forked worker starts with its own, all free:
    the gate is made before any call holds one)."""

    def __init__(self, large_bytes: int, slots: int, wait_seconds: float,
                 max_body_bytes: int) -> None:
        self.large_bytes = large_bytes
        self.wait_seconds = wait_seconds
        self.max_body_bytes = max_body_bytes
        self._slots = threading.BoundedSemaphore(slots)

    def is_large(self, declared_length: int | None) -> bool:
        """Large: at or above the threshold, or of unknown length; not over the limit
        (that body is refused before it is read)."""
        if declared_length is None:
            return True
        return self.large_bytes <= declared_length <= self.max_body_bytes

    @contextmanager
    def admit(self, declared_length: int | None) -> Iterator[None]:
        """Hold a slot for the block when the call is large (503 when none frees up)."""
        if not self.is_large(declared_length):
            yield
            return
        if not self._slots.acquire(timeout=self.wait_seconds):
            LARGE_CALLS.labels(outcome="refused").inc()
            raise ServiceError(
                503, "The service is evaluating other large requests; retry shortly.",
                headers={"Retry-After": str(max(1, math.ceil(self.wait_seconds)))})
        LARGE_CALLS.labels(outcome="admitted").inc()
        try:
            yield
        finally:
            self._slots.release()
