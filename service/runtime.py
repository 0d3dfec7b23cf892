"""Process-wide tuning of the Python runtime that the server applies once, in gunicorn's
master before it forks the workers (``gunicorn.conf.py``), and the benchmark mirrors.

Why the collector: a hook call parses its whole request into Python objects (about
30,000 containers for the ~1 MB Synthea patient), which with CPython's default
thresholds (700, 10, 10) sets off dozens of young collections and, every hundred calls
or so, an older one in the middle of a call. Almost nothing a call makes is cyclic
garbage (parsed JSON, frozen dataclasses), so collecting less often costs little memory
and takes a pause out of the tail: measured in process on the 1 MB patient with back
pain, p99 10.5-12.7 ms with the defaults, 6.9 ms with these (issue #15).
"""

from __future__ import annotations

import gc

# (young, middle, old): young collections after this many new containers, then the
# older generations after this many collections of the one below.
GC_THRESHOLDS = (20_000, 50, 100)


def tune_collector() -> None:
    """Collect less often (:data:`GC_THRESHOLDS`); inherited by forked workers."""
    gc.set_threshold(*GC_THRESHOLDS)
