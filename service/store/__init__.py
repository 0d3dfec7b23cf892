"""The service's memory: replay cache, issued cards, feedback, snoozes and audit.

:class:`Store` is the repository over :mod:`service.db` (SQLite or PostgreSQL, same code);
:class:`SnoozeMemory` implements :class:`service.ports.Memory` for the hook pipeline on
top of it. Both live in ``app.extensions["backpain"]`` as "store" and "memory"
(:func:`init_app`).

Privacy: patient ids are replaced by HMAC-SHA256(PATIENT_HASH_KEY, patientId) before they
reach the database, fact references by keyed digests, and free-text override comments
are not stored at all (only a keyed digest, for idempotency), nor is the record's text (a
data gap naming an entry by its own text is kept by concept: ``DataQuality.audit_lines``).
No log line names a patient.

Failure: every database error increments ``DB_ERRORS{operation}``. The hook path
(:class:`SnoozeMemory`) never raises: with the database down every card is shown (a snooze
that cannot be read must not hide a warning). Everything else raises
:class:`StoreUnavailable`, so that the caller can answer 503 (feedback) or decide how to
fail (the JWT replay check falls back to the worker's memory). Every operation a request
waits on is bounded client-side (:mod:`service.dbguard`): a frozen database costs a call
at most ``DB_TIMEOUT_SECONDS``. Hook calls' rows are spooled ahead of the database
(:mod:`service.spool`) and never dropped (:class:`CallWriter`).

Modules: :mod:`.keys` (keyed digests), :mod:`.base` (sessions, bounds, readiness),
:mod:`.jti` (replay cache), :mod:`.calls` (issued cards, audit), :mod:`.snoozes`,
:mod:`.feedback`, :mod:`.report` (governance report, retention), :mod:`.writer` (the
background writer), :mod:`.memory` (the hook path's Memory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service import spool as spool_format
from service.config import Settings
from service.metrics import initialise_faults
from service.spool import Spool
from service.store.errors import CardsPending, InvalidFeedback, StoreUnavailable, UnknownCards
from service.store.feedback import UNKNOWN_CARD_RETRY_S
from service.store.keys import DEVELOPMENT_HASH_KEY, Hasher, patient_hash_key
from service.store.memory import SnoozeMemory
from service.store.repository import Store
from service.store.values import CallRecord, FeedbackItem, FeedbackResult, ReportRow, SnoozePolicy
from service.store.writer import CallWriter

__all__ = [
    "DEVELOPMENT_HASH_KEY", "CallRecord", "CallWriter", "CardsPending", "FeedbackItem",
    "FeedbackResult", "Hasher", "InvalidFeedback", "ReportRow", "SnoozeMemory", "SnoozePolicy",
    "Store", "StoreUnavailable", "UnknownCards", "init_app", "patient_hash_key", "start_writer",
]


def init_app(app: Any) -> None:
    """Register the store (and the hook-path memory) in ``app.extensions["backpain"]``.

    Raises :class:`ConfigError` when PATIENT_HASH_KEY is missing outside local development.
    Does not connect: a replica starts even while the database is down (``/ready`` says so).
    The app's memory records hook calls through a background :class:`CallWriter` whose
    spool is in ``SPOOL_DIR``.
    """
    extensions = app.extensions["backpain"]
    settings: Settings = extensions["settings"]
    initialise_faults()
    store = Store.from_settings(settings, clock=extensions["clock"])
    directory = Path(settings.spool_dir) if settings.spool_dir else \
        spool_format.default_dir(settings.database_url)
    writer = CallWriter(store, Spool(directory))
    store.flush_pending = lambda: writer.flush(UNKNOWN_CARD_RETRY_S)
    store.stop_writer = writer.stop
    extensions["store"] = store
    extensions["memory"] = SnoozeMemory(store, writer)


def start_writer(app: Any) -> None:
    """Start this process's writer now (a gunicorn worker at start-up: it replays what
    earlier processes left in the spool without waiting for a first call)."""
    memory = app.extensions.get("backpain", {}).get("memory")
    writer = getattr(memory, "writer", None)
    if isinstance(writer, CallWriter):
        writer.start()

