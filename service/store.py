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
fail (the JWT replay check falls back to the worker's memory). Every operation a request
waits on is bounded client-side (:mod:`service.dbguard`): a frozen database costs a call
at most ``DB_TIMEOUT_SECONDS``. Hook calls' rows are spooled ahead of the database
(:mod:`service.spool`) and never dropped (:class:`CallWriter`).
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cds_rules.model import OVERRIDE_REASON_SYSTEM, Fact, Finding
from cds_rules.override_reasons import SNOOZE_REASON_CODES
from service import spool as spool_format
from service.card_ids import CardIds
from service.config import ConfigError, Settings
from service.db import (
    AuditEvent,
    Base,
    Feedback,
    IssuedCard,
    SeenJti,
    Snooze,
    is_in_memory,
    make_engine,
    make_sessionmakers,
    utc,
)
from service.dbguard import Bound, Unavailable
from service.metrics import (
    CARDS_SUPPRESSED,
    DB_DEGRADED,
    DB_ERRORS,
    WRITER_QUEUED,
    WRITER_RETRIES,
    WRITER_SPOOL_CALLS,
    WRITER_SPOOLED,
    initialise_faults,
)
from service.ports import HookCall
from service.spool import Spool

log = logging.getLogger(__name__)

# Used only when PATIENT_HASH_KEY is empty and ALLOW_UNAUTHENTICATED is set (local dev).
DEVELOPMENT_HASH_KEY = b"backpain-cds-development-key-not-for-production"
JTI_PURGE_INTERVAL_S = 60.0
HOOK_PATH = frozenset({"suppress_snoozed", "record_call", "claim_jti", "ping", "feedback"})
# Feedback naming a card we issued (service.card_ids) that is not in the database yet
# (still in a writer's queue or spool, here or on another replica): how long to wait for
# it, how often to look again, and for how long after its issue a card can still be on
# its way (past that, "never issued"). Then: 503 + Retry-After, never 404.
UNKNOWN_CARD_GRACE_S = 1.0
UNKNOWN_CARD_RETRY_S = 0.1
PENDING_CARD_HORIZON_S = 7 * 24 * 3600.0
_dev_key_warned = threading.Event()


class StoreUnavailable(RuntimeError):
    """The database could not be reached or refused the operation; retry later."""


class CardsPending(StoreUnavailable):
    """Feedback names cards we issued whose records have not reached the database yet."""


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
    """Keyed digests that stand for identifiers at rest. Facts and comments are digested
    with a domain prefix, so that none can equal a patient's hash."""

    key: bytes

    def _digest(self, domain: str, value: str, length: int = 64) -> str:
        message = f"{domain}\x00{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:length]

    def patient(self, patient_id: str) -> str:
        """HMAC-SHA256(key, patientId), hex: an operator with the key can compute it (e.g.
        ``openssl dgst -sha256 -hmac KEY``) to find one patient's records."""
        return hmac.new(self.key, patient_id.encode(), hashlib.sha256).hexdigest()

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


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The rows one answered hook call adds: its issued cards and its audit entry."""

    issued: list[dict[str, Any]]
    audit: dict[str, Any]


class UnknownCards(LookupError):
    """Feedback named cards this service never issued (to this client). ``missing``: those
    of them with no record at all (the others were issued by another service or to
    another client)."""

    def __init__(self, cards: Sequence[str], missing: Sequence[str] = ()) -> None:
        super().__init__(", ".join(cards))
        self.cards = tuple(cards)
        self.missing = tuple(missing)


class InvalidFeedback(ValueError):
    """Feedback inconsistent with the card it names (e.g. a suggestion it never had)."""


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
        return item.outcome == "overridden" and self.is_snooze_reason(item.reason_system,
                                                                      item.reason_code)

    def is_snooze_reason(self, system: str | None, code: str | None) -> bool:
        return code in self.reason_codes and system in (None, "", self.reason_system)


@dataclass(slots=True)
class ReportRow:
    """One line of the governance report: a topic and the rule version that raised it.

    Cards are counted once per outcome (a card accepted twice is one accepted card);
    ``snoozed``: cards overridden with a snooze reason; ``suppressed``: times a snooze hid
    the topic from a later call (from the audit, so within its retention)."""

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
                      clock: Callable[[], datetime] = utc_now) -> Store:
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

    # --- JWT replay cache ------------------------------------------------------------

    def claim_jti(self, jti: str, expires_at: datetime) -> bool:
        """True if ``jti`` is newly claimed; False if already seen and not yet expired.

        Atomic across threads and replicas: the primary key decides (INSERT ... ON
        CONFLICT DO NOTHING), and an expired row is re-claimed by a conditional UPDATE.
        Raises :class:`StoreUnavailable` if the database is down or does not answer within
        the hook path's bound.
        """
        return bool(self._bounded(self.hook_bound, "claim_jti",
                                  lambda: self._claim_jti(jti, expires_at)))

    def remember_jtis(self, rows: Sequence[tuple[str, datetime]]) -> None:
        """Record JWT ids accepted while the store was away (already seen ones are kept)."""
        values = [{"jti": jti, "expires_at": utc(expires)} for jti, expires in rows]
        if not values:
            return
        with self._session("remember_jtis", write=True) as session:
            session.execute(_insert_ignore(session, SeenJti), values)

    def _claim_jti(self, jti: str, expires_at: datetime) -> bool:
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

    # --- issued cards and audit (the hook path) --------------------------------------

    def record_call(self, call: HookCall, sent_cards: Sequence[dict[str, Any]],
                    snoozed_cards: Sequence[dict[str, Any]] = ()) -> None:
        """Store the cards sent (for feedback and snoozes) and the audit entry, at once.

        ``snoozed_cards``: the cards :meth:`snoozed_cards` hid from this call.
        """
        self.write_calls([self.prepare_call(call, sent_cards, snoozed_cards)])

    def prepare_call(self, call: HookCall, sent_cards: Sequence[dict[str, Any]],
                     snoozed_cards: Sequence[dict[str, Any]] = ()) -> CallRecord:
        """The rows :meth:`record_call` writes for one call (hashed: no raw identifiers),
        built without touching the database."""
        patient = self.hasher.patient(call.patient_id)
        findings = _findings_by_topic(call.evaluation.findings)
        sent = [_card_summary(card, findings) for card in sent_cards]
        suppressed = [_card_summary(card, findings) for card in snoozed_cards]
        quality = call.evaluation.quality.as_dict()
        quality["dataGaps"] = sorted({*quality["dataGaps"], *call.data_gaps})
        issued = [
            {
                "card_uuid": entry["card"],
                "service_id": call.service_id,
                "hook": call.hook,
                "hook_instance": call.hook_instance,
                "topic": entry["topic"],
                "rule_id": entry["ruleId"],
                "rule_version": entry["ruleVersion"],
                "indicator": entry["indicator"],
                "issued_at": utc(call.received_at),
                "patient_hash": patient,
                "client_iss": call.client_iss,
                "fingerprint": self.hasher.fingerprint(findings.get(entry["topic"])),
                "suggestion_uuids": _suggestion_uuids(card),
            }
            for entry, card in zip(sent, sent_cards, strict=True)
            if entry["card"]
        ]
        audit = {
            "received_at": utc(call.received_at),
            "service_id": call.service_id,
            "hook": call.hook,
            "hook_instance": call.hook_instance,
            "client_iss": call.client_iss,
            "patient_hash": patient,
            "cards": sent,
            "suppressed": suppressed,
            "quality": quality,
            "latency_ms": round(call.latency_ms, 3),
        }
        return CallRecord(issued=issued, audit=audit)

    def write_calls(self, records: Sequence[CallRecord], *, replay: bool = False) -> int:
        """Write the rows of any number of calls in one transaction (two executemany
        INSERTs); how many calls were written. Raises StoreUnavailable.

        ``replay``: the records come from a spool and may already be stored (a batch that
        committed just before its process died): calls already in the audit (same
        hookInstance and time) are skipped, issued cards are never stored twice anyway.
        """
        if not records:
            return 0
        with self._session("record_call", write=True) as session:
            if replay:
                records = _not_yet_audited(session, records)
            issued = [row for record in records for row in record.issued]
            if issued:
                session.execute(_insert_ignore(session, IssuedCard), issued)
            if records:
                session.execute(insert(AuditEvent), [record.audit for record in records])
        return len(records)

    def snoozed_cards(self, call: HookCall) -> list[dict[str, Any]]:
        """The cards of ``call.evaluation.cards`` that an active snooze hides.

        A snooze covers a card only if every fact of the card's current finding was seen
        by the snoozed card: a new fact (new sign, new value, new resource) shows it again.
        A card whose finding is unknown is never hidden. Snoozes are per client (JWT
        iss) and patient: another EHR's patient with the same id is not affected.
        Raises StoreUnavailable.
        """
        cards = call.evaluation.cards
        findings = _findings_by_topic(call.evaluation.findings)
        topics = {topic for card in cards if (topic := _card_topic(card)) in findings}
        if not topics:
            return []
        statement = _ACTIVE_SNOOZES[call.client_iss is None]
        parameters = {"patient": self.hasher.patient(call.patient_id),
                      "client": call.client_iss, "topics": sorted(topics),
                      "at": utc(call.received_at)}

        def read() -> list[Any]:
            with self._session("suppress_snoozed", write=False) as session:
                return list(session.execute(statement, parameters).all())

        rows = self._bounded(self.hook_bound, "suppress_snoozed", read)
        seen_by_topic: dict[str, list[set[str]]] = {}
        for topic, fingerprint in rows:
            seen_by_topic.setdefault(topic, []).append(set(fingerprint))
        hidden = []
        for card in cards:
            topic = _card_topic(card)
            if topic is None or topic not in seen_by_topic:
                continue
            current = set(self.hasher.fingerprint(findings[topic]))
            if any(current <= seen for seen in seen_by_topic[topic]):
                CARDS_SUPPRESSED.labels(topic=topic).inc()
                hidden.append(card)
        return hidden

    # --- feedback ---------------------------------------------------------------------

    def add_feedback(self, service_id: str, items: Sequence[FeedbackItem],
                     client_iss: str | None = None) -> FeedbackResult:
        """Store feedback on cards this service issued, all or nothing, committed on return.

        Idempotent: an entry already stored (same card, outcome, outcomeTimestamp and
        reason) is ignored. An override with a snooze reason snoozes the card's topic for
        that patient. Raises :class:`UnknownCards` (nothing stored) if a card was never
        issued by ``service_id`` or, when ``client_iss`` (the authenticated client giving
        feedback) is set, never issued to that client: one EHR cannot act on another's
        cards, even knowing their uuids (``None``, unauthenticated: any card of the
        service). :class:`InvalidFeedback` if an accepted suggestion is not
        one of the card's, :class:`StoreUnavailable` if the database is down.

        A card we issued (:mod:`service.card_ids`) whose record is not in the database yet
        (in a writer's queue or spool, on this replica or another) is waited for up to
        UNKNOWN_CARD_GRACE_S (this process's writer is flushed meanwhile), then
        :class:`CardsPending` (a :class:`StoreUnavailable`: 503, retry), never
        :class:`UnknownCards`. Each attempt is bounded client-side (``timeout``).
        """
        deadline = time.monotonic() + UNKNOWN_CARD_GRACE_S
        while True:
            try:
                return self._bounded(self.feedback_bound, "feedback",  # type: ignore[no-any-return]
                                     lambda: self._add_feedback(service_id, items, client_iss))
            except UnknownCards as exc:
                if not exc.missing or not all(self._on_its_way(c) for c in exc.missing):
                    raise
                if time.monotonic() >= deadline:
                    raise CardsPending(f"{len(exc.missing)} card(s) issued, not yet "
                                       "stored") from None
                if self.flush_pending is not None:
                    self.flush_pending()
                time.sleep(UNKNOWN_CARD_RETRY_S)

    def _on_its_way(self, card: str) -> bool:
        """Did we issue ``card`` recently enough for its record to be still on its way?"""
        issued = self.card_ids.issued_at(card)
        return issued is not None and time.time() - issued <= PENDING_CARD_HORIZON_S

    def _add_feedback(self, service_id: str, items: Sequence[FeedbackItem],
                      client_iss: str | None) -> FeedbackResult:
        now = self.clock()
        result = FeedbackResult()
        named = {item.card for item in items}
        with self._session("feedback", write=True) as session:
            # One statement: a card committed meanwhile is seen whole or not at all.
            stored = {card.card_uuid: card for card in
                      session.scalars(select(IssuedCard).where(IssuedCard.card_uuid.in_(named)))}
            cards = {uuid: card for uuid, card in stored.items()
                     if card.service_id == service_id
                     and (client_iss is None or card.client_iss == client_iss)}
            unknown = sorted(named - cards.keys())
            if unknown:  # those in no record at all may still be on their way
                raise UnknownCards(unknown, [card for card in unknown if card not in stored])
            for index, item in enumerate(items):
                card = cards[item.card]
                foreign = set(item.accepted_suggestions) - set(card.suggestion_uuids)
                if foreign:
                    raise InvalidFeedback(f"feedback[{index}].acceptedSuggestions: "
                                          f"not suggestions of card {item.card}: "
                                          f"{', '.join(sorted(foreign))}")
                feedback_id = self._insert_feedback(session, item, now)
                if feedback_id is None:
                    result.duplicates += 1
                    continue
                result.stored += 1
                if self.snooze_policy.snoozes(item):
                    session.add(Snooze(
                        feedback_id=feedback_id,
                        card_uuid=card.card_uuid,
                        patient_hash=card.patient_hash,
                        client_iss=card.client_iss,
                        topic=card.topic,
                        reason_code=item.reason_code or "",
                        fingerprint=card.fingerprint,
                        created_at=now,
                        expires_at=now + self.snooze_policy.duration(card.indicator),
                    ))
                    result.snoozes += 1
        return result

    def _insert_feedback(self, session: Session, item: FeedbackItem,
                         now: datetime) -> int | None:
        """Insert one entry unless already stored; its id, or None for a duplicate."""
        comment = self.hasher.comment(item.user_comment) if item.user_comment else ""
        statement = (
            _insert_ignore(session, Feedback)
            .values(
                card_uuid=item.card,
                outcome=item.outcome,
                outcome_timestamp=utc(item.outcome_timestamp),
                reason_key=f"{item.reason_system or ''}|{item.reason_code or ''}|{comment}",
                reason_system=item.reason_system,
                reason_code=item.reason_code,
                has_comment=bool(item.user_comment),
                accepted_suggestions=sorted(set(item.accepted_suggestions)),
                received_at=now,
            )
            .returning(Feedback.id)
        )
        feedback_id: int | None = session.execute(statement).scalar_one_or_none()
        return feedback_id

    # --- governance report ------------------------------------------------------------

    def report(self, since: datetime | None = None) -> list[ReportRow]:
        """Per topic and rule version, for cards issued since ``since`` (default: ever)."""
        start = utc(since) if since else datetime.min.replace(tzinfo=UTC)
        rows: dict[tuple[str, str, str], ReportRow] = {}

        def row(topic: str, rule_id: str, rule_version: str) -> ReportRow:
            key = (topic, rule_id, rule_version)
            return rows.setdefault(key, ReportRow(topic, rule_id, rule_version))

        rule = (IssuedCard.topic, IssuedCard.rule_id, IssuedCard.rule_version)
        cards = func.count(IssuedCard.card_uuid.distinct())
        with self._session("report", write=False) as session:
            for topic, rule_id, version, issued in session.execute(
                    select(*rule, cards).where(IssuedCard.issued_at >= start).group_by(*rule)):
                row(topic, rule_id, version).issued = issued
            for topic, rule_id, version, outcome, system, code, n in session.execute(
                    select(*rule, Feedback.outcome, Feedback.reason_system, Feedback.reason_code,
                           cards)
                    .join(Feedback, Feedback.card_uuid == IssuedCard.card_uuid)
                    .where(IssuedCard.issued_at >= start)
                    .group_by(*rule, Feedback.outcome, Feedback.reason_system,
                              Feedback.reason_code)):
                entry = row(topic, rule_id, version)
                if outcome == "accepted":
                    entry.accepted += n
                    continue
                reason = code or "(comment only)"
                entry.overridden_by_reason[reason] = entry.overridden_by_reason.get(reason, 0) + n
                if self.snooze_policy.is_snooze_reason(system, code):
                    entry.snoozed += n
            for topic, rule_id, version, n in session.execute(
                    select(*rule, cards)
                    .join(Feedback, Feedback.card_uuid == IssuedCard.card_uuid)
                    .where(IssuedCard.issued_at >= start, Feedback.outcome == "overridden")
                    .group_by(*rule)):
                row(topic, rule_id, version).overridden = n
            for (hidden,) in session.execute(
                    select(AuditEvent.suppressed).where(AuditEvent.received_at >= start)):
                for card in hidden:
                    row(card["topic"], card["ruleId"], card["ruleVersion"]).suppressed += 1
        return sorted(rows.values(), key=lambda r: (r.topic, r.rule_id, r.rule_version))

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


def _not_yet_audited(session: Session, records: Sequence[CallRecord]) -> list[CallRecord]:
    """The records whose call is not in the audit yet (by time, indexed, then
    hookInstance): a replayed spool may hold calls that were written after all."""
    times = [record.audit["received_at"] for record in records]
    present = set(session.execute(
        select(AuditEvent.hook_instance, AuditEvent.received_at)
        .where(AuditEvent.received_at >= min(times), AuditEvent.received_at <= max(times))))
    return [record for record in records
            if (record.audit["hook_instance"], utc(record.audit["received_at"])) not in present]


def _forget_connections_after_fork(engine: Engine) -> None:
    """A forked worker (gunicorn --preload) must not reuse the parent's pooled connections:
    drop them in the child without closing them (they belong to the parent)."""
    engine_ref = weakref.ref(engine)

    def forget() -> None:
        forked = engine_ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _active_snoozes(client_is_null: bool) -> Any:
    """The hook path's one read, built once (building a select costs about as much as
    running it on SQLite): snoozes of a patient and client, for some topics, at a time.
    The client is ``client_iss``, NULL matching NULL (unauthenticated calls), in a form
    both databases can answer from an index."""
    client = Snooze.client_iss.is_(None) if client_is_null \
        else Snooze.client_iss == bindparam("client")
    return select(Snooze.topic, Snooze.fingerprint).where(
        Snooze.patient_hash == bindparam("patient"),
        client,
        Snooze.topic.in_(bindparam("topics", expanding=True)),
        Snooze.expires_at > bindparam("at", type_=Snooze.expires_at.type),
    )


# keyed by "the call has no client" (unauthenticated): IS NULL, else = :client
_ACTIVE_SNOOZES = {True: _active_snoozes(True), False: _active_snoozes(False)}


def _card_topic(card: dict[str, Any]) -> str | None:
    topic = (card.get("source") or {}).get("topic") or {}
    code = topic.get("code") if isinstance(topic, dict) else None
    return code if isinstance(code, str) else None


def _findings_by_topic(findings: Iterable[Finding]) -> dict[str, Finding]:
    return {finding.topic.value: finding for finding in findings}


def _card_summary(card: dict[str, Any], findings: dict[str, Finding]) -> dict[str, Any]:
    """What the audit keeps of a card: identity, topic and the rule version behind it."""
    topic = _card_topic(card) or ""
    finding = findings.get(topic)
    uuid = card.get("uuid")
    return {
        "card": uuid if isinstance(uuid, str) else None,
        "topic": topic,
        "ruleId": finding.rule_id if finding else "",
        "ruleVersion": finding.rule_version if finding else "",
        "indicator": str(card.get("indicator", "")),
    }


def _suggestion_uuids(card: dict[str, Any]) -> list[str]:
    return [s["uuid"] for s in card.get("suggestions") or () if isinstance(s.get("uuid"), str)]


def _deleted(session: Session, statement: Any) -> int:
    """Run a DELETE and count the rows it removed (RETURNING: rowcount is unreliable)."""
    return len(session.execute(statement.returning(text("1"))).all())


def _insert_ignore(session: Session, model: type[Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's dialect."""
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return builder(model).on_conflict_do_nothing()



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
        """Spool and queue one call's rows; never blocks on the database, never raises."""
        self._adopt_process()
        line = spool_format.encode(record.issued, record.audit)
        with self._progress:  # also held by an idle thread deciding to end: none is lost
            spooled = self.spool.append(line)
            if len(self._queue) < self.MAX_PENDING or not spooled:
                self._queue.append(record)
            else:
                self._backlog = True  # waits in the spool only, replayed from there
                self._done += 1
            self._queued += 1
            self._start_locked()
            self._progress.notify_all()
        WRITER_QUEUED.labels(writer="calls").set(len(self._queue))

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
                    self._progress.notify_all()
                WRITER_QUEUED.labels(writer="calls").set(len(self._queue))
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


class SnoozeMemory:
    """The :class:`service.ports.Memory` of the hook path: never raises, fails safe.

    The cards hidden by :meth:`suppress_snoozed` are remembered per thread until
    :meth:`record_call` of the same call, so that the audit tells cards hidden by a snooze
    from cards the shell dropped for other reasons. With a ``writer`` the records are
    written in the background (:class:`CallWriter`); without one, before returning.
    """

    def __init__(self, store: Store, writer: CallWriter | None = None) -> None:
        self.store = store
        self.writer = writer
        self._hidden = threading.local()

    def flush(self) -> None:
        """Return once every call recorded so far is in the database (tests, shutdown)."""
        if self.writer is not None:
            self.writer.flush()

    def suppress_snoozed(self, call: HookCall) -> list[dict[str, Any]]:
        cards = call.evaluation.cards
        try:
            hidden = self.store.snoozed_cards(call)
        except StoreUnavailable:
            hidden = []  # cannot read snoozes: show everything
        except Exception as exc:  # a bug must not cost the clinician the cards
            DB_ERRORS.labels(operation="suppress_snoozed").inc()
            # The type only: a message could quote request data (patient ids).
            log.error("suppress_snoozed failed (%s); showing every card", type(exc).__name__)
            hidden = []
        self._hidden.call = (id(call), hidden)
        return [card for card in cards if not any(card is h for h in hidden)]

    def record_call(self, call: HookCall, sent_cards: list[dict[str, Any]]) -> None:
        """Record the cards about to be sent, each first given a uuid any replica can
        recognise as ours (:mod:`service.card_ids`): feedback on it before its record
        reaches the database is then answered 503 (retry), never 404."""
        call_id, hidden = getattr(self._hidden, "call", (None, []))
        self._hidden.call = (None, [])
        issued_at = time.time()
        for card in sent_cards:
            card["uuid"] = self.store.card_ids.mint(issued_at)
        try:
            record = self.store.prepare_call(call, sent_cards,
                                             hidden if call_id == id(call) else [])
            if self.writer is not None:
                self.writer.submit(record)
            else:
                self.store.write_calls([record])
        except StoreUnavailable:
            pass  # counted in DB_ERRORS and logged by the store
        except Exception as exc:
            DB_ERRORS.labels(operation="record_call").inc()
            log.error("record_call failed (%s); the call is answered anyway", type(exc).__name__)
