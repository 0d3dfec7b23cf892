"""The seams of the hook pipeline: what the HTTP shell calls, and who implements it.

The shell (``service.hooks``) resolves prefetch, calls the core, then hands the result to
the memory. The FHIR client (``service.fhir_client``) implements :class:`Fetcher`; the
persistence layer (``service.store``) implements :class:`Memory`. Both are looked up in
``app.extensions["backpain"]`` under "fetcher" and "memory"; either may be absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cds_rules import Card, Evaluation


@dataclass(slots=True)
class FetchResult:
    """Resources fetched per prefetch key, and keys that could not be obtained (with why)."""

    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # key -> short reason, no secrets
    mended: int = 0  # broken UTF-16 escapes in the pages read, read as U+FFFD


class Fetcher(Protocol):
    def fetch(
        self,
        queries: Mapping[str, str],
        fhir_server: str,
        access_token: str | None,
        allowed_bases: tuple[str, ...],
    ) -> FetchResult:
        """Fetch rendered prefetch ``queries`` (key -> relative FHIR query) within the deadline.

        ``allowed_bases``: FHIR base URLs the calling client is trusted for; a
        ``fhir_server`` outside them is never contacted (every key fails).
        """
        ...


@dataclass(slots=True)
class HookCall:
    """Everything the memory needs about one answered hook call (no raw identifiers kept)."""

    service_id: str
    hook: str
    hook_instance: str
    patient_id: str  # hashed by the memory before storage, never stored raw
    client_iss: str | None
    received_at: datetime
    evaluation: Evaluation
    latency_ms: float = 0.0
    data_gaps: tuple[str, ...] = ()
    # When the request arrived (time.perf_counter()): state read after it is fresh enough
    # for this call (service.store.snooze_cache). None: read anew.
    arrived: float | None = None


class Memory(Protocol):
    def suppress_snoozed(self, call: HookCall) -> list[Card]:
        """The cards of ``call.evaluation.cards`` an active snooze hides (not to be sent).

        Must never raise: if the database is down, hide nothing (fail safe).
        """
        ...

    def record_call(self, call: HookCall, sent_cards: list[Card],
                    hidden_cards: list[Card]) -> list[Card]:
        """Record the cards about to be sent and the audit entry (which names the
        ``hidden_cards`` too); the cards to send, each with the ``uuid`` it was issued
        under. Must never raise."""
        ...
