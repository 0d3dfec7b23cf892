"""The JWT replay cache (``Store.claim_jti``) and the readiness probe, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

from service.migrations import upgrade
from service.store import Store
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import FakeClock, settings_for


def _race(threads: int, claim: Callable[[], bool]) -> list[bool]:
    """Run ``claim`` in ``threads`` threads released together; their results."""
    barrier = threading.Barrier(threads)

    def run() -> bool:
        barrier.wait()
        return claim()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: run(), range(threads)))


def test_claim_once_then_replay_refused(store: Store, clock: FakeClock) -> None:
    expires = clock.now + timedelta(minutes=5)
    assert store.claim_jti("jti-1", expires) is True
    assert store.claim_jti("jti-1", expires) is False
    assert store.claim_jti("jti-2", expires) is True


def test_expired_jti_can_be_claimed_again(store: Store, clock: FakeClock) -> None:
    assert store.claim_jti("jti-1", clock.now + timedelta(minutes=5)) is True
    clock.advance(minutes=4)
    assert store.claim_jti("jti-1", clock.now + timedelta(minutes=5)) is False
    clock.advance(minutes=2)
    assert store.claim_jti("jti-1", clock.now + timedelta(minutes=5)) is True
    assert store.claim_jti("jti-1", clock.now + timedelta(minutes=5)) is False


def test_racing_threads_claim_exactly_once(store: Store, clock: FakeClock) -> None:
    expires = clock.now + timedelta(minutes=5)
    for round_ in range(5):
        results = _race(12, partial(store.claim_jti, f"race-{round_}", expires))
        assert sorted(results) == [False] * 11 + [True]


def test_racing_reclaim_of_an_expired_jti_succeeds_once(store: Store, clock: FakeClock) -> None:
    assert store.claim_jti("old", clock.now + timedelta(seconds=1))
    clock.advance(seconds=2)
    results = _race(10, lambda: store.claim_jti("old", clock.now + timedelta(minutes=5)))
    assert sorted(results) == [False] * 9 + [True]


def test_ping_is_false_until_migrated(database_url: str, clock: FakeClock) -> None:
    fresh = Store.from_settings(settings_for(database_url), clock=clock)
    try:
        assert fresh.ping() is False
        upgrade(fresh.engine)
        assert fresh.ping() is True
    finally:
        fresh.dispose()


def test_ping_is_false_when_the_server_is_unreachable(clock: FakeClock) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    unreachable = Store.from_settings(
        settings_for("postgresql+psycopg://postgres@127.0.0.1:1/test"), clock=clock)
    assert unreachable.ping() is False
