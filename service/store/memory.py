"""The hook pipeline's :class:`service.ports.Memory`: snoozes read, calls recorded."""

from __future__ import annotations

import logging
import time

from cds_rules import Card
from service.metrics import DB_ERRORS
from service.ports import HookCall
from service.store.errors import StoreUnavailable
from service.store.repository import Store
from service.store.writer import CallWriter

log = logging.getLogger(__name__)


class SnoozeMemory:
    """The :class:`service.ports.Memory` of the hook path: never raises, fails safe.

    With a ``writer`` the records are written in the background (:class:`CallWriter`);
    without one, before returning.
    """

    def __init__(self, store: Store, writer: CallWriter | None = None) -> None:
        self.store = store
        self.writer = writer

    def flush(self) -> None:
        """Return once every call recorded so far is in the database (tests, shutdown)."""
        if self.writer is not None:
            self.writer.flush()

    def suppress_snoozed(self, call: HookCall) -> list[Card]:
        """The cards an active snooze hides (none when the snoozes cannot be read)."""
        try:
            return self.store.snoozed_cards(call)
        except StoreUnavailable:
            return []  # cannot read snoozes: show everything
        except Exception as exc:  # a bug must not cost the clinician the cards
            DB_ERRORS.labels(operation="suppress_snoozed").inc()
            # The type only: a message could quote request data (patient ids).
            log.error("suppress_snoozed failed (%s); showing every card", type(exc).__name__)
            return []

    def record_call(self, call: HookCall, sent_cards: list[Card],
                    hidden_cards: list[Card]) -> list[Card]:
        """Record the cards about to be sent, each first given a uuid any replica can
        recognise as ours (:mod:`service.card_ids`): feedback on it before its record
        reaches the database is then answered 503 (retry), never 404. The audit names
        ``hidden_cards`` as suppressed. Returns the cards to send."""
        issued_at = time.time()
        sent = [card.with_uuid(self.store.card_ids.mint(issued_at)) for card in sent_cards]
        try:
            record = self.store.prepare_call(call, sent, hidden_cards)
            if self.writer is not None:
                self.writer.submit(record)
            else:
                self.store.write_calls([record])
        except StoreUnavailable:
            pass  # counted in DB_ERRORS and logged by the store
        except Exception as exc:
            DB_ERRORS.labels(operation="record_call").inc()
            log.error("record_call failed (%s); the call is answered anyway", type(exc).__name__)
        return sent
