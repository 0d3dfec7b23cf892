"""The JWT replay check: the shared store first, this process's memory as a fallback.

Every accepted ``jti`` is claimed in the shared database (``seen_jti``: a token used on
one replica is refused on every other) and also remembered here until it expires. When
the shared store cannot answer (down, frozen past the client-side bound, read-only), the
check is made in this memory alone instead of refusing every call: the clinician keeps
getting cards (red flags included), and a token is still refused a second time by the
same worker. The trade-off, documented in the README's Trust section: while the store is
away, a token stolen in flight could be replayed once on each *other* worker or replica
until it expires (minutes). Those claims are written to the shared store once it answers
again, so from then on every replica refuses them.

``backpain_cds_replay_store_degraded`` is 1 while a worker decides alone; one log line
marks each transition; ``backpain_cds_replay_local_claims_total`` counts its decisions.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from service.metrics import REPLAY_DEGRADED, REPLAY_LOCAL_CLAIMS

log = logging.getLogger(__name__)

#: ``claim(key, expires_at) -> bool``: True when newly claimed; raises when unavailable
Claim = Callable[[str, datetime], bool]
#: ``remember(rows)``: record claims made while the store was away; raises when unavailable
Remember = Callable[[Sequence[tuple[str, datetime]]], None]

FALLBACK = "worker-memory"
MAX_REMEMBERED = 200_000  # tokens live minutes: far more than a worker accepts meanwhile


class ReplayGuard:
    """``claim`` for the verifier: never raises, never forgets a token it accepted."""

    def __init__(self, claim: Callable[[], Claim | None],
                 remember: Callable[[], Remember | None]) -> None:
        self._claim = claim
        self._remember = remember
        self._lock = threading.Lock()
        self._seen: dict[str, datetime] = {}
        self._expiry: list[tuple[datetime, str]] = []  # heap, to forget expired ids
        self._unsynced: list[tuple[str, datetime]] = []  # claimed while degraded
        self.degraded = False

    def claim(self, key: str, expires_at: datetime) -> bool:
        shared = self._claim()
        if shared is not None:
            try:
                fresh = shared(key, expires_at)
            except Exception as exc:
                self._set_degraded(True, type(exc).__name__)
            else:
                self._set_degraded(False)
                # only the shared store's winner is remembered: a loser remembering first
                # made the winner on the same worker a replay too (every caller refused)
                return fresh and self._remember_locally(key, expires_at)
        REPLAY_LOCAL_CLAIMS.labels(fallback=FALLBACK).inc()
        fresh = self._remember_locally(key, expires_at)
        if fresh:
            with self._lock:
                self._unsynced.append((key, expires_at))
        return fresh

    def _remember_locally(self, key: str, expires_at: datetime) -> bool:
        """True if ``key`` was not in this memory (it is now)."""
        now = datetime.now(UTC)
        with self._lock:
            self._forget_expired(now)
            known = self._seen.get(key)
            if known is not None and known > now:
                return False
            self._seen[key] = expires_at
            heapq.heappush(self._expiry, (expires_at, key))
            return True

    def _forget_expired(self, now: datetime) -> None:
        while self._expiry and (self._expiry[0][0] <= now
                                or len(self._seen) > MAX_REMEMBERED):
            expires_at, key = heapq.heappop(self._expiry)
            if self._seen.get(key) == expires_at:
                del self._seen[key]

    def _set_degraded(self, degraded: bool, why: str = "") -> None:
        if degraded == self.degraded:
            return
        self.degraded = degraded
        REPLAY_DEGRADED.labels(fallback=FALLBACK).set(1 if degraded else 0)
        if degraded:
            log.warning("JWT replay store unavailable (%s): replays are checked in this "
                        "worker's memory only until it answers again", why)
            return
        log.warning("JWT replay store available again: replays are checked across replicas")
        threading.Thread(target=self._sync, name="backpain-replay-sync", daemon=True).start()

    def _sync(self) -> None:
        """Write the ids claimed while degraded to the shared store (best effort)."""
        with self._lock:
            rows, self._unsynced = self._unsynced, []
        remember = self._remember()
        if not rows or remember is None:
            return
        try:
            remember(rows)
        except Exception as exc:
            log.warning("could not record %d JWT ids claimed while the replay store was "
                        "away (%s)", len(rows), type(exc).__name__)
            with self._lock:
                self._unsynced.extend(rows)
        else:
            log.info("recorded %d JWT ids claimed while the replay store was away", len(rows))

    def __len__(self) -> int:
        return len(self._seen)
