"""The replay guard on one worker: of concurrent calls with one token, the one the shared
store lets claim it is served, whatever order the threads come back in."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from service.store import Store
from service.trust.replay import ReplayGuard
from tests.store_support import *  # noqa: F403  (fixtures)


def test_the_winner_is_served_when_a_loser_on_its_worker_answers_first(store: Store) -> None:
    """The shared store (real) decides who claims the token; the winner's thread is held
    after the store's answer until a loser of the same worker has had its own: the
    interleaving that refused every caller (the two-replica test's flake: eight 401s)."""
    winner_claimed, loser_answered = threading.Event(), threading.Event()

    def shared_claim(key: str, expires_at: datetime) -> bool:
        fresh = store.claim_jti(key, expires_at)
        if fresh:
            winner_claimed.set()
            assert loser_answered.wait(10)
        return fresh

    guard = ReplayGuard(lambda: shared_claim, lambda: None)
    expires = datetime.now(UTC) + timedelta(minutes=5)
    with ThreadPoolExecutor(1) as pool:
        winner = pool.submit(guard.claim, "jti-race", expires)
        assert winner_claimed.wait(10)
        loser = guard.claim("jti-race", expires)
        loser_answered.set()
        assert (winner.result(timeout=10), loser) == (True, False)
    assert guard.claim("jti-race", expires) is False  # still a replay afterwards
