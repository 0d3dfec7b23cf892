"""This process's copy of the active snoozes, kept current by a counter in the database.

Why: a card-producing hook call used to read the snooze table through an ORM session
(about a millisecond on the loaded 2-core machine, issue #15) while a card-less call read
nothing. Snoozes change rarely (an override with a snooze reason), calls are many. So
every transaction that adds snoozes first bumps ``store_version('snooze')``
(:func:`bump_statement`), and a call reads only that counter, one primary-key row on a
connection this process keeps for it (no pool, no session); the snooze rows are read only
when the counter moved, and then only those added since (ids above the last one seen).

Why ids are enough: the bump is the first write of the transaction that adds snoozes, so
it holds the counter row's lock until it commits. Snooze ids are drawn after the lock, so
they grow in commit order; an uncommitted snooze's id is above every committed one, and
its commit moves the counter. A counter that went *down* (the table was emptied and
recreated) reloads everything. Snoozes are never deleted before they expire (retention
removes expired ones only), and expiry is checked against each call's time, as the query
did: the copy cannot hide a card longer than the table would.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db import StoreVersion

log = logging.getLogger(__name__)

SNOOZE = "snooze"
_READ_SQL = f"SELECT version FROM store_version WHERE name = '{SNOOZE}'"
# Entries expired this long before the store's clock are dropped from the copy.
PRUNE_AFTER = timedelta(days=1)

Key = tuple[str, str | None, str]  # patient hash, client (None: unauthenticated), topic
Entry = tuple[frozenset[str], datetime]  # fingerprint, expires_at
# Runs a blocking step (opening a connection) elsewhere, waiting until a deadline.
Opener = Callable[[Callable[[], Any], float], Any]


def bump_statement(session: Session) -> Any:
    """``store_version('snooze') += 1`` (created at 1), for the session's dialect."""
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(StoreVersion).values(name=SNOOZE, version=1)
    return statement.on_conflict_do_update(index_elements=[StoreVersion.name],
                                           set_={"version": StoreVersion.version + 1})


class VersionReader:
    """Reads the snooze counter on one DBAPI connection of this process's own (taken out
    of the pool), in autocommit: one indexed row, no session, no transaction left open.

    The read runs on the calling thread and keeps to the caller's deadline itself (no
    hand-off to a pool thread, issue #15): on PostgreSQL the query is sent and its socket
    waited on with a timeout (libpq's asynchronous interface), so a frozen server costs
    the bound, not the freeze. A timed-out connection is closed (its answer could still
    arrive). Opening a connection can hang in the handshake: that step runs on
    ``opener``'s pool thread, bounded by the same deadline. SQLite is a local file read
    in WAL mode, which never waits for a writer: read directly.

    A connection that fails is closed and opened again once (a restarted server); a second
    failure raises. A forked process opens its own (the parent's belongs to the parent).

    Concurrent calls share reads: a call may use a value read by a query that *started*
    after the call arrived, since every snooze committed before the call arrived was then
    already visible to that query. Under load most calls so find a fresh value instead of
    queueing for the one connection: no lock is held during a query (a query lets go of
    the interpreter lock, and a thread holding a lock while it waits to get it back made
    every card-producing call queue: a third of request threads' time under wrk, #15).
    """

    def __init__(self, engine: Engine, timeout: float, opener: Opener) -> None:
        self.engine = engine
        self.timeout = timeout
        self.opener = opener
        self._turn = threading.Condition()  # held briefly, never during a query
        self._reading = False  # a query is in flight (its thread alone uses the connection)
        self._connection: Any = None
        self._last: tuple[float, int] | None = None  # (query start, value) of the latest read
        after_fork = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: _call_if_alive(after_fork))

    def _after_fork(self) -> None:
        """In a forked child: a lock another thread held at the fork, a read it had in
        flight and the parent's connection are not the child's (never close the latter)."""
        self._turn = threading.Condition()
        self._reading = False
        self._connection, self._last = None, None

    def read(self, deadline: float, arrived: float | None = None) -> int:
        """The counter as read by a query that started at or after ``arrived`` (the
        call's arrival, ``time.perf_counter()``; None: a query that starts now).
        :class:`TimeoutError` past ``deadline`` (``time.monotonic()``).

        One query at a time, on the process's connection; a call that finds one in flight
        waits for it to end (with every other such call: they wake together, none queues
        behind another), takes its value if it started after the call arrived, and else
        starts the next query, which serves all who arrived before it."""
        with self._turn:
            while True:
                shared = self._fresh_for(arrived)
                if shared is not None:
                    return shared
                if not self._reading:
                    self._reading = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._turn.wait(remaining):
                    raise TimeoutError("snooze counter: the read in flight took too long")
        try:
            started = time.perf_counter()
            value = self._read_alone(deadline)
            self._last = (started, value)
            return value
        finally:
            with self._turn:
                self._reading = False
                self._turn.notify_all()

    def _fresh_for(self, arrived: float | None) -> int | None:
        last = self._last
        if arrived is None or last is None or last[0] < arrived:
            return None
        return last[1]

    def _read_alone(self, deadline: float) -> int:
        fresh = self._connection is None
        try:
            return self._read_once(deadline)
        except TimeoutError:
            self._close()
            raise
        except Exception:
            self._close()
            if fresh:
                raise
        return self._read_once(deadline)  # the kept connection had gone stale: once more

    def close(self) -> None:
        """Close the connection, once a read in flight (if any) has ended."""
        with self._turn:
            self._turn.wait_for(lambda: not self._reading, self.timeout)
            self._close()

    def _read_once(self, deadline: float) -> int:
        if self._connection is None:
            self._connection = self.opener(self._open, deadline)
        if self.engine.dialect.name == "postgresql":
            return _read_pg(self._connection, deadline)
        cursor = self._connection.cursor()
        try:
            cursor.execute(_READ_SQL)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return int(row[0]) if row else 0

    def _open(self) -> Any:
        pooled = self.engine.raw_connection()
        connection: Any = pooled.driver_connection
        pooled.detach()  # ours for the process; the pool opens another for itself
        if self.engine.dialect.name == "postgresql":
            connection.autocommit = True
            cursor = connection.cursor()
            cursor.execute(f"SET statement_timeout = {int(self.timeout * 1000)}")
            cursor.close()
        return connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception as exc:  # already broken: nothing more to do
                log.debug("closing the snooze counter connection: %s", type(exc).__name__)


def _call_if_alive(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    bound = method()
    if bound is not None:
        bound()


def _read_pg(connection: Any, deadline: float) -> int:
    """The counter through libpq's asynchronous calls on ``connection`` (psycopg 3):
    send, then wait on the socket until the answer is complete or ``deadline``."""
    pgconn = connection.pgconn
    pgconn.send_query(_READ_SQL.encode())
    while pgconn.flush():  # the query is tiny: at most a wait for the socket
        _wait(pgconn.socket, deadline, write=True)
    pgconn.consume_input()
    while pgconn.is_busy():
        _wait(pgconn.socket, deadline, write=False)
        pgconn.consume_input()
    result = pgconn.get_result()
    while pgconn.get_result() is not None:  # the end of the answer
        pass
    if result is None or result.status != pq.ExecStatus.TUPLES_OK:
        message = result.error_message if result is not None else pgconn.error_message
        raise psycopg.OperationalError(message.decode("utf-8", "replace"))
    return int(result.get_value(0, 0) or 0) if result.ntuples else 0


def _wait(socket: int, deadline: float, *, write: bool) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("snooze counter: no answer within the bound")
    watched = ([], [socket]) if write else ([socket], [])
    ready = select.select(watched[0], watched[1], [], remaining)
    if not (ready[0] or ready[1]):
        raise TimeoutError("snooze counter: no answer within the bound")


class SnoozeCache:
    """The active snoozes by (patient hash, client, topic), as of ``version``."""

    def __init__(self) -> None:
        self.version: int | None = None  # None: nothing loaded yet
        self.last_id = 0
        self.entries: dict[Key, list[Entry]] = {}
        self.lock = threading.Lock()

    def refresh(self, version: int, load: Callable[[int], Iterable[Any]],
                now: datetime) -> None:
        """Bring the copy to ``version``: the rows ``load(after_id)`` returns (id, patient
        hash, client, topic, fingerprint, expires_at) are added; all of them when the
        counter went back (the table was recreated)."""
        with self.lock:
            if version == self.version:
                return
            if self.version is None or version < self.version:
                self.entries, self.last_id = {}, 0
            for row_id, patient, client, topic, fingerprint, expires_at in load(self.last_id):
                self.entries.setdefault((patient, client, topic), []).append(
                    (frozenset(fingerprint), expires_at))
                self.last_id = max(self.last_id, row_id)
            self._prune(now - PRUNE_AFTER)
            self.version = version

    def is_empty(self) -> bool:
        """No snooze in the copy (the usual state: snoozes are rare and expire)."""
        with self.lock:
            return not self.entries

    def active(self, patient: str, client: str | None, topics: Iterable[str],
               at: datetime) -> dict[str, list[frozenset[str]]]:
        """The fingerprints of the snoozes of ``patient`` and ``client`` per topic that
        are still running at ``at``."""
        with self.lock:
            found: dict[str, list[frozenset[str]]] = {}
            for topic in topics:
                seen = [fingerprint for fingerprint, expires_at
                        in self.entries.get((patient, client, topic), ())
                        if expires_at > at]
                if seen:
                    found[topic] = seen
            return found

    def _prune(self, before: datetime) -> None:
        for key in list(self.entries):
            kept = [entry for entry in self.entries[key] if entry[1] > before]
            if kept:
                self.entries[key] = kept
            else:
                del self.entries[key]
