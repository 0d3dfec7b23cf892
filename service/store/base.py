"""The store's footing: one database, short sessions, client-side bounds, readiness.

:class:`StoreBase` holds what every repository of :class:`service.store.Store` shares
(engine, hasher, clock, the bounds of :mod:`service.dbguard`) and the one way to run a
unit of work (:meth:`StoreBase._session`): every database error becomes
:class:`StoreUnavailable` and is counted in ``DB_ERRORS{operation}``.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Engine, delete, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cds_rules import OVERRIDE_REASON_SYSTEM, SNOOZE_REASON_CODES
from service.card_ids import CardIds
from service.config import Settings
from service.db import Base, SeenJti, is_in_memory, make_engine, make_sessionmakers, utc_now
from service.dbguard import Bound, Unavailable
from service.metrics import DB_DEGRADED, DB_ERRORS
from service.store.errors import InvalidFeedback, StoreUnavailable, UnknownCards
from service.store.keys import Hasher, patient_hash_key
from service.store.values import SnoozePolicy

log = logging.getLogger(__name__)

HOOK_PATH = frozenset({"suppress_snoozed", "record_call", "claim_jti", "ping", "feedback"})


class StoreBase:
    """One database and how to work on it. Each operation runs in its own short session."""

    def __init__(self, engine: Engine, hasher: Hasher, snooze_policy: SnoozePolicy,
                 *, clock: Callable[[], datetime] = utc_now, timeout: float = 2.0) -> None:
        self.engine = engine
        self.hasher = hasher
        self.snooze_policy = snooze_policy
        self.clock = clock
        self.timeout = timeout
        self.card_ids = CardIds(hasher.key)
        # Client-side bounds (service.dbguard): the hook path (with a breaker), feedback,
        # readiness, and the background writer (not on any request's path: longer).
        self.hook_bound = Bound("hook", timeout, gauge=DB_DEGRADED)
        self.feedback_bound = Bound("feedback", timeout, cooldown=0.0)
        self.ready_bound = Bound("ready", timeout, cooldown=0.0, threads=2)
        self.writer_bound = Bound("writer", max(5.0, 2 * timeout), cooldown=0.0, threads=2)
        self._read, self._write = make_sessionmakers(engine)
        self._next_jti_purge = 0.0
        # Set when hook calls are recorded by a background CallWriter: writes what it holds
        # (briefly), and writes it all then stops the writer (dispose).
        self.flush_pending: Callable[[], object] | None = None
        self.stop_writer: Callable[[], object] | None = None
        # In-memory SQLite: one connection for the process, so one unit of work at a time;
        # its schema is created here (an in-memory database always starts empty).
        self._serial: AbstractContextManager[Any] = nullcontext()
        if is_in_memory(engine):
            self._serial = threading.Lock()
            Base.metadata.create_all(engine)
        _forget_connections_after_fork(engine)

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      clock: Callable[[], datetime] = utc_now) -> Self:
        """Build from configuration without connecting (the database may be down at start)."""
        policy = SnoozePolicy(
            reason_codes=SNOOZE_REASON_CODES,
            reason_system=OVERRIDE_REASON_SYSTEM,
            days=settings.snooze_days,
            critical_hours=settings.critical_snooze_hours,
        )
        return cls(make_engine(settings.database_url, settings.db_timeout_seconds),
                   Hasher(patient_hash_key(settings)), policy, clock=clock,
                   timeout=settings.db_timeout_seconds)

    def dispose(self) -> None:
        """Write what the background writer holds (bounded), stop it, close connections."""
        if self.stop_writer is not None:
            self.stop_writer()
        self.engine.dispose()

    @contextmanager
    def _session(self, operation: str, *, write: bool) -> Iterator[Session]:
        """One unit of work. On the hook path a hung PostgreSQL (locks, overload) must not
        hold the clinician's cards: its statements time out (HOOK_PATH_TIMEOUT_MS)."""
        maker: sessionmaker[Session] = self._write if write else self._read
        try:
            with self._serial, maker() as session, session.begin():
                if operation in HOOK_PATH and self.engine.dialect.name == "postgresql":
                    session.execute(text("SET LOCAL statement_timeout = "
                                         f"{int(self.timeout * 1000)}"))
                yield session
        except SQLAlchemyError as exc:
            DB_ERRORS.labels(operation=operation).inc()
            log.warning("database error in %s: %s", operation, type(exc).__name__)
            raise StoreUnavailable(f"database unavailable ({operation})") from exc

    def _bounded(self, bound: Bound, operation: str, function: Callable[[], Any]) -> Any:
        """``function()`` within ``bound`` (client-side timeout); StoreUnavailable when it
        fails, times out or is not tried (the bound is open). The store's own exceptions
        about the data (UnknownCards, InvalidFeedback) pass through."""
        try:
            return bound.run(operation, function, (UnknownCards, InvalidFeedback))
        except Unavailable as exc:  # errors are counted by _session, timeouts by the bound
            raise StoreUnavailable(f"database unavailable ({operation})") from exc

    # --- readiness -------------------------------------------------------------------

    def ping(self) -> bool:
        """True if the database answers, is migrated and takes a write, within the same
        client-side bound as a call (readiness probe): every call writes (its JWT id), so a
        database that reads but cannot write (read-only file system, full disk, a standby
        after fail-over) is not ready. Never raises."""
        key = f"readyz-probe:{os.getpid()}"

        def probe() -> None:
            with self._session("ping", write=True) as session:
                session.execute(delete(SeenJti).where(SeenJti.jti == key))
                session.execute(insert(SeenJti).values(jti=key, expires_at=self.clock()))

        try:
            self._bounded(self.ready_bound, "ping", probe)
            return True
        except StoreUnavailable:
            return False


def _forget_connections_after_fork(engine: Engine) -> None:
    """A forked worker (gunicorn --preload) must not reuse the parent's pooled connections:
    drop them in the child without closing them (they belong to the parent)."""
    engine_ref = weakref.ref(engine)

    def forget() -> None:
        forked = engine_ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def deleted_rows(session: Session, statement: Any) -> int:
    """Run a DELETE and count the rows it removed (RETURNING: rowcount is unreliable)."""
    return len(session.execute(statement.returning(text("1"))).all())


def insert_ignore(session: Session, model: type[Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's dialect, into the model's table
    (Core: a bulk insert skips the ORM's per-row bookkeeping)."""
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return builder(model.__table__).on_conflict_do_nothing()

