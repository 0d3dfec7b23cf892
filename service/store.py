"""The service's memory: replay cache, issued cards, feedback, snoozes and audit.

:class:`Store` is the repository over :mod:`service.db` (SQLite or PostgreSQL, same code);
:class:`SnoozeMemory` implements :class:`service.ports.Memory` for the hook pipeline on
top of it. Both live in ``app.extensions["backpain"]`` as "store" and "memory"
(:func:`init_app`).

Privacy: patient ids are replaced by HMAC-SHA256(PATIENT_HASH_KEY, patientId) before they
reach the database, fact references by keyed digests, and free-text override comments
are not stored at all (only a keyed digest, for idempotency). No log line names a patient.

Failure: every database error increments ``DB_ERRORS{operation}``. The hook path
(:class:`SnoozeMemory`) never raises: with the database down every card is shown (a snooze
that cannot be read must not hide a warning). Everything else raises
:class:`StoreUnavailable`, so that the caller can answer 503 (feedback) or decide how to
fail (the JWT replay check).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cds_rules.model import Fact, Finding
from service.config import ConfigError, Settings
from service.db import (
    AuditEvent,
    SeenJti,
    Snooze,
    make_engine,
    make_sessionmakers,
    utc,
)
from service.metrics import DB_ERRORS

log = logging.getLogger(__name__)

# Used only when PATIENT_HASH_KEY is empty and ALLOW_UNAUTHENTICATED is set (local dev).
DEVELOPMENT_HASH_KEY = b"backpain-cds-development-key-not-for-production"
JTI_PURGE_INTERVAL_S = 60.0
_dev_key_warned = threading.Event()


class StoreUnavailable(RuntimeError):
    """The database could not be reached or refused the operation; retry later."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def patient_hash_key(settings: Settings) -> bytes:
    """The configured hash key; the development key only when running unauthenticated."""
    if settings.patient_hash_key:
        return settings.patient_hash_key.encode("utf-8")
    if settings.allow_unauthenticated:
        if not _dev_key_warned.is_set():
            _dev_key_warned.set()
            log.warning("BACKPAIN_CDS_PATIENT_HASH_KEY is empty: using the fixed development "
                        "key (ALLOW_UNAUTHENTICATED is set). Never run like this with real "
                        "patients.")
        return DEVELOPMENT_HASH_KEY
    raise ConfigError("BACKPAIN_CDS_PATIENT_HASH_KEY: required (a long random secret: patient "
                      "ids are stored only as keyed hashes) unless "
                      "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1 for local development")


@dataclass(frozen=True, slots=True)
class Hasher:
    """Keyed digests that stand for identifiers at rest (distinct domain per kind)."""

    key: bytes

    def _digest(self, domain: str, value: str, length: int = 64) -> str:
        message = f"{domain}\x00{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:length]

    def patient(self, patient_id: str) -> str:
        return self._digest("patient", patient_id)

    def fact(self, fact: Fact) -> str:
        """A fact's identity: concept, source resource, time and value. A new sign, a new
        resource, a new time or a changed value is a different fact."""
        when = fact.when.isoformat() if fact.when else ""
        value = "" if fact.value is None else repr(fact.value)
        return self._digest("fact", f"{fact.concept}|{fact.source}|{when}|{value}", 32)

    def fingerprint(self, finding: Finding | None) -> list[str]:
        return sorted({self.fact(f) for f in finding.facts}) if finding else []

    def comment(self, comment: str) -> str:
        return self._digest("comment", comment, 32)


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One validated feedback entry (the wire schema lives in :mod:`service.feedback`)."""

    card: str
    outcome: str  # accepted | overridden
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    reason_system: str | None = None
    reason_code: str | None = None
    user_comment: str | None = None


class UnknownCards(LookupError):
    """Feedback named cards this service never issued."""

    def __init__(self, cards: Sequence[str]) -> None:
        super().__init__(", ".join(cards))
        self.cards = tuple(cards)


class InvalidFeedback(ValueError):
    """Feedback inconsistent with the card it names (e.g. a suggestion it never had)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


@dataclass(slots=True)
class FeedbackResult:
    stored: int = 0
    duplicates: int = 0
    snoozes: int = 0


@dataclass(frozen=True, slots=True)
class SnoozePolicy:
    """Which override reasons snooze, and for how long."""

    reason_codes: frozenset[str]
    reason_system: str
    days: int
    critical_hours: int

    def duration(self, indicator: str) -> timedelta:
        period = timedelta(days=self.days)
        if indicator == "critical":
            return min(period, timedelta(hours=self.critical_hours))
        return period

    def snoozes(self, item: FeedbackItem) -> bool:
        return (
            item.outcome == "overridden"
            and item.reason_code in self.reason_codes
            and item.reason_system in (None, "", self.reason_system)
        )


@dataclass(slots=True)
class ReportRow:
    topic: str
    rule_id: str
    rule_version: str
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    overridden_by_reason: dict[str, int] = field(default_factory=dict)
    snoozed: int = 0
    suppressed: int = 0


class Store:
    """Repositories over one database. Each operation runs in its own short session."""

    def __init__(self, engine: Engine, hasher: Hasher, snooze_policy: SnoozePolicy,
                 *, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.hasher = hasher
        self.snooze_policy = snooze_policy
        self.clock = clock
        self._read, self._write = make_sessionmakers(engine)
        self._next_jti_purge = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      clock: Callable[[], datetime] = utc_now) -> Store:
        """Build from configuration without connecting (the database may be down at start)."""
        from cds_rules.model import OVERRIDE_REASON_SYSTEM

        policy = SnoozePolicy(
            reason_codes=_snooze_reason_codes(),
            reason_system=OVERRIDE_REASON_SYSTEM,
            days=settings.snooze_days,
            critical_hours=settings.critical_snooze_hours,
        )
        return cls(make_engine(settings.database_url), Hasher(patient_hash_key(settings)),
                   policy, clock=clock)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self, operation: str, *, write: bool) -> Iterator[Session]:
        maker: sessionmaker[Session] = self._write if write else self._read
        try:
            with maker() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            DB_ERRORS.labels(operation=operation).inc()
            log.warning("database error in %s: %s", operation, type(exc).__name__)
            raise StoreUnavailable(f"database unavailable ({operation})") from exc

    # --- readiness -------------------------------------------------------------------

    def ping(self) -> bool:
        """True if the database answers and is migrated (readiness probe). Never raises."""
        try:
            with self._session("ping", write=False) as session:
                session.execute(select(SeenJti.jti).limit(1))
            return True
        except StoreUnavailable:
            return False

    # --- JWT replay cache ------------------------------------------------------------

    def claim_jti(self, jti: str, expires_at: datetime) -> bool:
        """True if ``jti`` is newly claimed; False if already seen and not yet expired.

        Atomic across threads and replicas: the primary key decides (INSERT ... ON
        CONFLICT DO NOTHING), and an expired row is re-claimed by a conditional UPDATE.
        Raises :class:`StoreUnavailable` if the database is down.
        """
        now = self.clock()
        expires_at = utc(expires_at)
        with self._session("claim_jti", write=True) as session:
            self._purge_jti_now_and_then(session, now)
            inserted = session.execute(
                _insert_ignore(session, SeenJti)
                .values(jti=jti, expires_at=expires_at)
                .returning(SeenJti.jti)
            ).scalar_one_or_none()
            if inserted is not None:
                return True
            reclaimed = session.execute(
                update(SeenJti)
                .where(SeenJti.jti == jti, SeenJti.expires_at <= now)
                .values(expires_at=expires_at)
                .returning(SeenJti.jti)
            ).scalar_one_or_none()
            return reclaimed is not None

    def _purge_jti_now_and_then(self, session: Session, now: datetime) -> None:
        if time.monotonic() < self._next_jti_purge:
            return
        self._next_jti_purge = time.monotonic() + JTI_PURGE_INTERVAL_S
        session.execute(delete(SeenJti).where(SeenJti.expires_at <= now))

    # --- retention -------------------------------------------------------------------

    def purge(self, retention_days: int, now: datetime | None = None) -> dict[str, int]:
        """Delete audit older than ``retention_days``, expired JWT ids and snoozes."""
        now = utc(now) if now else self.clock()
        cutoff = now - timedelta(days=retention_days)
        with self._session("purge", write=True) as session:
            return {
                "audit_event": _deleted(session, delete(AuditEvent)
                                        .where(AuditEvent.received_at < cutoff)),
                "seen_jti": _deleted(session, delete(SeenJti).where(SeenJti.expires_at <= now)),
                "snooze": _deleted(session, delete(Snooze).where(Snooze.expires_at <= now)),
            }


def _deleted(session: Session, statement: Any) -> int:
    """Run a DELETE and count the rows it removed (RETURNING: rowcount is unreliable)."""
    return len(session.execute(statement.returning(text("1"))).all())


def _insert_ignore(session: Session, model: type[Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's dialect."""
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return builder(model).on_conflict_do_nothing()


def _snooze_reason_codes() -> frozenset[str]:
    try:
        from cds_rules.override_reasons import SNOOZE_REASON_CODES
    except ImportError:  # the override-reason catalogue has not landed yet
        return frozenset()
    return frozenset(SNOOZE_REASON_CODES)



def init_app(app: Any) -> None:
    """Register the store (and the hook-path memory) in ``app.extensions["backpain"]``.

    Raises :class:`ConfigError` when PATIENT_HASH_KEY is missing outside local development.
    Does not connect: a replica starts even while the database is down (``/ready`` says so).
    """
    extensions = app.extensions["backpain"]
    store = Store.from_settings(extensions["settings"], clock=extensions["clock"])
    extensions["store"] = store
