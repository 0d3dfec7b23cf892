"""Database engine, sessions and the SQLAlchemy 2 models of the service's memory.

One schema for SQLite (the embedded default) and PostgreSQL (several replicas). The
schema itself is owned by the Alembic migrations in ``service/migrations``; these models
mirror it (``tests/test_migrations.py`` checks that they agree).

Nothing here holds a raw patient identifier: patients are keyed hashes
(:func:`service.store.PatientHasher`), facts are keyed digests.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 2  # libpq's least
# Execution option that makes a SQLite transaction take the write lock at BEGIN, so that a
# read-then-write transaction never fails with SQLITE_BUSY when it upgrades its lock.
WRITE_OPTION = "backpain_write"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on both databases (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the memory stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class SeenJti(Base):
    """JWT ids already accepted, until they expire (the replay cache of every replica)."""

    __tablename__ = "seen_jti"

    jti: Mapped[str] = mapped_column(Text, primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IssuedCard(Base):
    """One card sent to a client: what feedback and snoozes refer to."""

    __tablename__ = "issued_card"

    card_uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100))
    hook: Mapped[str] = mapped_column(String(100))
    hook_instance: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(100))
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str] = mapped_column(String(50))
    indicator: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    patient_hash: Mapped[str] = mapped_column(String(64))
    # The authenticated client (JWT iss) the card was sent to; NULL when unauthenticated.
    # Feedback from another client is refused as if the card were unknown.
    client_iss: Mapped[str | None] = mapped_column(String(500))
    # Sorted keyed digests of the facts the card's finding rested on (see FactDigester).
    fingerprint: Mapped[list[str]] = mapped_column(JSON)
    suggestion_uuids: Mapped[list[str]] = mapped_column(JSON)


class Feedback(Base):
    """What a clinician did with a card. Free-text comments are never stored (they may
    name the patient): only whether there was one, and a keyed digest for idempotency."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("card_uuid", "outcome", "outcome_timestamp", "reason_key",
                         name="uq_feedback_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_uuid: Mapped[str] = mapped_column(ForeignKey("issued_card.card_uuid"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    # "system|code|comment-digest": part of the idempotency key, never NULL (NULLs would
    # not collide in a unique constraint).
    reason_key: Mapped[str] = mapped_column(String(600))
    reason_system: Mapped[str | None] = mapped_column(String(300))
    reason_code: Mapped[str | None] = mapped_column(String(100))
    has_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Snooze(Base):
    """A topic hidden for one patient of one client until ``expires_at`` — unless new facts
    appear. ``client_iss`` (the snoozed card's client, NULL when unauthenticated) scopes it:
    EHRs sharing a deployment may use the same patient id for different people."""

    __tablename__ = "snooze"
    __table_args__ = (Index("ix_snooze_lookup", "patient_hash", "client_iss", "topic",
                            "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id"), unique=True)
    card_uuid: Mapped[str] = mapped_column(ForeignKey("issued_card.card_uuid"))
    patient_hash: Mapped[str] = mapped_column(String(64))
    client_iss: Mapped[str | None] = mapped_column(String(500))
    topic: Mapped[str] = mapped_column(String(100))
    reason_code: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoreVersion(Base):
    """A counter per shared table that processes cache: it goes up in every transaction
    that adds to the table (``snooze``), so that a replica re-reads the table only when it
    moved (``service.store.snooze_cache``)."""

    __tablename__ = "store_version"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class AuditEvent(Base):
    """One answered hook call, as an inspector would want to see it."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    service_id: Mapped[str] = mapped_column(String(100))
    hook: Mapped[str] = mapped_column(String(100))
    hook_instance: Mapped[str] = mapped_column(String(200))
    client_iss: Mapped[str | None] = mapped_column(String(500))
    patient_hash: Mapped[str] = mapped_column(String(64))
    # [{"topic", "ruleId", "ruleVersion", "indicator", "card"}] of cards sent / suppressed.
    cards: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    suppressed: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float)


def is_in_memory(engine: Engine) -> bool:
    """An in-memory SQLite database: ephemeral, one per process (tests, demos)."""
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def make_engine(url: str, timeout: float = 2.0) -> Engine:
    """An engine tuned per backend: SQLite WAL + busy timeout, PostgreSQL pre-ping.

    In-memory SQLite gets one connection shared by every thread (StaticPool), so that the
    whole process sees one database; the store serialises its use (see Store).
    PostgreSQL connections get client-side bounds from ``timeout`` (seconds): libpq's
    ``connect_timeout`` (whole seconds, at least 2), TCP keepalives and
    ``tcp_user_timeout`` (a peer that stops acknowledging is dropped), and a bounded wait
    for a pooled connection. A *frozen* server whose kernel still acknowledges is caught
    only by the store's own bound (:mod:`service.dbguard`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=json_text, json_deserializer=orjson.loads,
            **({"poolclass": StaticPool} if in_memory else {}),
        )
        _tune_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        bounds = {
            "connect_timeout": max(PG_CONNECT_TIMEOUT_S, math.ceil(timeout)),
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
            "keepalives_count": 3, "tcp_user_timeout": max(1000, int(timeout * 1000)),
        }
        connect_args = {k: v for k, v in bounds.items() if k not in parsed.query}
    return create_engine(parsed, pool_pre_ping=True, pool_recycle=1800,
                         pool_timeout=max(timeout, 1.0), connect_args=connect_args,
                         json_serializer=json_text, json_deserializer=orjson.loads)


def json_text(value: Any) -> str:
    """JSON columns written by orjson (every hook call writes an audit row with JSON
    columns: the standard library's encoder was a tenth of the writer's time, issue #15).
    Compact, UTF-8 (the standard one escaped non-ASCII), read back by any JSON parser."""
    return orjson.dumps(value).decode("utf-8")


def _tune_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, a busy timeout for writers, and our own BEGIN."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sessionmakers(engine: Engine) -> tuple[sessionmaker[Any], sessionmaker[Any]]:
    """(read sessions, write sessions). Each unit of work opens its own short session,
    so threads and gunicorn workers never share one."""
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    writer = sessionmaker(bind=engine.execution_options(**{WRITE_OPTION: True}),
                          expire_on_commit=False)
    return reader, writer


def utc_now() -> datetime:
    """The service clock (the core takes time as an argument; tests inject their own)."""
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """``value`` as aware UTC; refuses naive datetimes (their zone is a guess)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware time")
    return value.astimezone(UTC)
