"""Which cards an active snooze hides from a hook call (the hook path's one read)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from cds_rules import Card
from service.db import Snooze, StoreVersion, is_in_memory, utc
from service.dbguard import Unavailable
from service.metrics import CARDS_SUPPRESSED, DB_ERRORS
from service.ports import HookCall
from service.store.base import StoreBase
from service.store.calls import findings_by_topic
from service.store.errors import StoreUnavailable
from service.store.snooze_cache import PRUNE_AFTER, SNOOZE, SnoozeCache, VersionReader

log = logging.getLogger(__name__)


class Snoozes(StoreBase):
    """Snoozes as the hook path reads them (they are written with feedback): from this
    process's copy (:mod:`service.store.snooze_cache`), current as of the call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snooze_cache = SnoozeCache()
        # In-memory SQLite has one connection for the process: read through a session.
        self._version_reader = None if is_in_memory(self.engine) \
            else VersionReader(self.engine, self.timeout, self.hook_bound.within)

    def dispose(self) -> None:
        if self._version_reader is not None:
            self._version_reader.close()
        super().dispose()

    def snoozed_cards(self, call: HookCall) -> list[Card]:
        """The cards of ``call.evaluation.cards`` that an active snooze hides.

        A snooze covers a card only if every fact of the card's current finding was seen
        by the snoozed card: a new fact (new sign, new value, new resource) shows it again.
        A card whose finding is unknown is never hidden. Snoozes are per client (JWT
        iss) and patient: another EHR's patient with the same id is not affected.
        Raises StoreUnavailable.
        """
        cards = call.evaluation.cards
        findings = findings_by_topic(call.evaluation.findings)
        topics = {card.topic for card in cards if card.topic in findings}
        if not topics:
            return []
        snoozes = self._current_snoozes(call.arrived)
        if snoozes.is_empty():  # no snooze running anywhere: nothing to hash or look up
            return []
        seen_by_topic = snoozes.active(self.hasher.patient(call.patient_id), call.client_iss,
                                       sorted(topics), utc(call.received_at))
        hidden = []
        for card in cards:
            topic = card.topic
            if topic not in seen_by_topic:
                continue
            current = set(self.hasher.fingerprint(findings[topic]))
            if any(current <= seen for seen in seen_by_topic[topic]):
                CARDS_SUPPRESSED.labels(topic=topic).inc()
                hidden.append(card)
        return hidden

    def _current_snoozes(self, arrived: float | None = None) -> SnoozeCache:
        """The copy, refreshed first if the snooze counter moved (raises StoreUnavailable).

        The counter is read on this thread within the hook bound (no hand-off: the common
        case, nothing changed, costs one indexed row); loading new snoozes, rare, goes
        through the bound's pool like any other query. ``arrived``: the call's arrival
        (``time.perf_counter()``): a counter read that started later is fresh enough."""
        version = self._snooze_version(arrived)
        if version != self.snooze_cache.version:
            self._bounded(self.hook_bound, "suppress_snoozed", lambda: (
                self.snooze_cache.refresh(version, self._snoozes_after, self.clock())))
        return self.snooze_cache

    def _snooze_version(self, arrived: float | None) -> int:
        reader = self._version_reader
        if reader is None:  # in-memory SQLite: its one shared connection, through a session
            return int(self._bounded(self.hook_bound, "suppress_snoozed",
                                     self._version_in_session))
        try:
            return self.hook_bound.run_inline("suppress_snoozed",
                                              lambda deadline: reader.read(deadline, arrived))
        except Unavailable as exc:
            failure = exc.__cause__  # None: timed out or not tried, which the bound counts
            if failure is not None:
                DB_ERRORS.labels(operation="suppress_snoozed").inc()
                log.warning("database error in suppress_snoozed: %s", type(failure).__name__)
            raise StoreUnavailable("database unavailable (suppress_snoozed)") from exc

    def _version_in_session(self) -> int:
        with self._session("suppress_snoozed", write=False) as session:
            return session.scalar(_VERSION) or 0

    def _snoozes_after(self, last_id: int) -> list[Any]:
        """Snoozes added after ``last_id`` (those expired long ago are not worth a copy)."""
        since = self.clock() - PRUNE_AFTER
        with self._session("suppress_snoozed", write=False) as session:
            return list(session.execute(
                select(Snooze.id, Snooze.patient_hash, Snooze.client_iss, Snooze.topic,
                       Snooze.fingerprint, Snooze.expires_at)
                .where(Snooze.id > last_id, Snooze.expires_at > since)
                .order_by(Snooze.id)))


_VERSION = select(StoreVersion.version).where(StoreVersion.name == SNOOZE)
