"""The hook pipeline's :class:`service.ports.Memory`: snoozes read, calls recorded."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from service.metrics import DB_ERRORS
from service.ports import HookCall
from service.store.errors import StoreUnavailable
from service.store.repository import Store
from service.store.writer import CallWriter

log = logging.getLogger(__name__)


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
