"""The per-process copy of the snoozes (service.store.snooze_cache) on both databases: two
stores on one database are two replicas; what one writes, the other honours at its very
next call, and nothing outlives its expiry."""

from __future__ import annotations

import os
import select as io_select
import signal
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from cds_rules import Card, Topic
from service.db import Snooze, StoreVersion
from service.store import SnoozeMemory, Store
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import (
    PG_ADMIN_DSN,
    RETENTION,
    SADDLE,
    SERVICE,
    T0,
    FakeClock,
    answer,
    finding,
    hook_call,
    migrated_store,
    override,
)


def topics(cards: Sequence[Card]) -> list[str]:
    return sorted(c.topic for c in cards)


# These tests check that the copies stay coherent, not the database bound (that is
# test_db_outage's and test_faults_postgres's): a generous bound keeps a loaded machine's
# slow SQLite lock from turning into a fail-open "show every card" answer mid-test.
COHERENCE_BOUND = {"db_timeout_seconds": 30.0}


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Iterator[Store]:
    """A migrated store on the parametrised database (one replica)."""
    memory_store = migrated_store(database_url, clock, **COHERENCE_BOUND)
    yield memory_store
    memory_store.dispose()


@pytest.fixture
def replica(database_url: str, store: Store, clock: FakeClock) -> Iterator[Store]:
    """A second store on the same (already migrated) database: another replica."""
    other = migrated_store(database_url, clock, **COHERENCE_BOUND)
    yield other
    other.dispose()


def test_a_snooze_written_on_one_replica_hides_the_card_on_the_other_at_its_next_call(
        store: Store, replica: Store) -> None:
    here, there = SnoozeMemory(store), SnoozeMemory(replica)
    fracture = finding(Topic.FRACTURE, SADDLE)
    first = hook_call(fracture, at=T0)
    answer(here, first)
    # the other replica has read (and copied) the snoozes before this one is written
    assert topics(answer(there, hook_call(fracture, at=T0 + timedelta(minutes=1)))) == [
        "fracture"]
    assert replica.snooze_cache.version == 0
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0])])
    assert answer(there, hook_call(fracture, at=T0 + timedelta(minutes=2))) == []
    assert answer(here, hook_call(fracture, at=T0 + timedelta(minutes=3))) == []
    # and the other way round: a second topic snoozed through the other replica
    cauda = finding(Topic.CAUDA_EQUINA, RETENTION, indicator="critical")
    second = hook_call(cauda, at=T0 + timedelta(minutes=4))
    assert topics(answer(there, second)) == ["cauda-equina"]
    replica.add_feedback(SERVICE, [override(second.evaluation.cards[0])])
    assert answer(here, hook_call(cauda, fracture, at=T0 + timedelta(minutes=5))) == []
    assert store.snooze_cache.version == 2  # the replica has not been called since


def test_a_call_honours_every_snooze_committed_before_it_arrived_sharing_reads(
        store: Store, replica: Store) -> None:
    """Calls share counter reads (issue #15): a call may use a value read by a query that
    started after it arrived, never an older one. So a snooze committed before a call
    arrived is always honoured, on either replica."""
    here, there = SnoozeMemory(store), SnoozeMemory(replica)
    fracture = finding(Topic.FRACTURE, SADDLE)
    arrived = time.perf_counter()
    first = replace(hook_call(fracture, at=T0), arrived=arrived)
    assert topics(answer(here, first)) == ["fracture"]
    replica.add_feedback(SERVICE, [override(first.evaluation.cards[0])])
    # A call that arrived with the first (before the snooze): the first's read serves it.
    alongside = replace(hook_call(fracture, at=T0), arrived=arrived)
    assert here.suppress_snoozed(alongside) == []
    # A call that arrived after the snooze was committed reads anew and honours it; so
    # does one that says nothing of its arrival.
    later = replace(hook_call(fracture, at=T0), arrived=time.perf_counter())
    assert here.suppress_snoozed(later) == later.evaluation.cards
    unknown = hook_call(fracture, at=T0)
    assert there.suppress_snoozed(unknown) == unknown.evaluation.cards


def test_calls_queued_behind_a_read_take_its_value(store: Store) -> None:
    """Eight calls that arrived together, on eight threads, while the first read is slow:
    the others queue for the process's one counter connection and, once through, find a
    value read after they arrived: one query in all."""
    memory = SnoozeMemory(store)
    fracture = finding(Topic.FRACTURE, SADDLE)
    answer(memory, hook_call(fracture, at=T0))  # the connection is open
    reader = store._version_reader
    assert reader is not None
    queries = 0
    read_once = reader._read_once

    def slow(deadline: float) -> int:
        nonlocal queries
        queries += 1
        time.sleep(0.05)  # the other calls arrive while it is in flight
        return read_once(deadline)

    reader._read_once = slow  # type: ignore[method-assign]
    arrived = time.perf_counter()
    calls = [replace(hook_call(fracture, at=T0), arrived=arrived) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        hidden = list(pool.map(memory.suppress_snoozed, calls))
    assert hidden == [[]] * 8
    assert queries == 1


def test_no_snooze_is_honoured_after_it_expires(store: Store, replica: Store) -> None:
    here, there = SnoozeMemory(store), SnoozeMemory(replica)
    cauda = finding(Topic.CAUDA_EQUINA, RETENTION, indicator="critical")  # 24 h snooze
    first = hook_call(cauda, at=T0)
    answer(here, first)
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0])])
    with store.engine.connect() as conn:
        expires_at = conn.execute(select(Snooze.expires_at)).scalar_one()
    assert answer(there, hook_call(cauda, at=expires_at - timedelta(seconds=1))) == []
    assert topics(answer(there, hook_call(cauda, at=expires_at))) == ["cauda-equina"]
    assert topics(answer(here, hook_call(cauda, at=expires_at + timedelta(days=3)))) == [
        "cauda-equina"]


def test_snoozes_written_concurrently_on_two_replicas_all_reach_both_copies(
        store: Store, replica: Store, clock: FakeClock) -> None:
    """Feedback from both replicas in threads while both keep answering calls: each
    copy ends equal to the table (snooze ids must reach the copies in commit order)."""
    memories = [SnoozeMemory(store), SnoozeMemory(replica)]
    calls = [hook_call(finding(Topic.FRACTURE, SADDLE), at=T0, patient=f"p{n}")
             for n in range(24)]
    for n, call in enumerate(calls):
        answer(memories[n % 2], call)

    def give_feedback(n: int) -> None:
        (store, replica)[n % 2].add_feedback(
            SERVICE, [override(calls[n].evaluation.cards[0])])

    def call_again(n: int) -> None:
        memories[n % 2].suppress_snoozed(
            hook_call(finding(Topic.FRACTURE, SADDLE), at=T0, patient=f"p{n}"))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: (give_feedback(n), call_again(n)), range(24)))
    for memory in memories:
        for n in range(24):
            again = hook_call(finding(Topic.FRACTURE, SADDLE), at=T0 + timedelta(hours=1),
                              patient=f"p{n}")
            assert memory.suppress_snoozed(again) == again.evaluation.cards, n  # all hidden
    with store.engine.connect() as conn:
        version = conn.execute(select(StoreVersion.version)).scalar_one()
    assert version == 24
    assert (store.snooze_cache.version, replica.snooze_cache.version) == (24, 24)


def test_a_table_emptied_and_recreated_is_read_again_whole(store: Store,
                                                            replica: Store) -> None:
    """A counter that goes back (tables recreated, restored backup) reloads the copy."""
    here, there = SnoozeMemory(store), SnoozeMemory(replica)
    fracture = finding(Topic.FRACTURE, SADDLE)
    first = hook_call(fracture, at=T0)
    answer(here, first)
    store.add_feedback(SERVICE, [override(first.evaluation.cards[0])])
    assert answer(there, hook_call(fracture, at=T0 + timedelta(minutes=1))) == []
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM snooze"))
        conn.execute(text("DELETE FROM store_version"))
    assert topics(answer(there, hook_call(fracture, at=T0 + timedelta(minutes=2)))) == [
        "fracture"]
    assert replica.snooze_cache.entries == {}


@pytest.mark.postgres
def test_a_dropped_counter_connection_is_reopened_without_showing_a_snoozed_card(
        pg_schema_url: str, clock: FakeClock) -> None:
    """The server ends the connection the copy's counter is read on (a restart, an
    idle-connection killer): the next call reopens it and still honours the snooze."""
    store = migrated_store(pg_schema_url, clock)
    try:
        memory = SnoozeMemory(store)
        fracture = finding(Topic.FRACTURE, SADDLE)
        first = hook_call(fracture, at=T0)
        answer(memory, first)
        store.add_feedback(SERVICE, [override(first.evaluation.cards[0])])
        assert answer(memory, hook_call(fracture, at=T0 + timedelta(minutes=1))) == []
        reader = store._version_reader
        assert reader is not None and reader._connection is not None
        pid = reader._connection.info.backend_pid
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert answer(memory, hook_call(fracture, at=T0 + timedelta(minutes=2))) == []
        assert reader._connection.info.backend_pid != pid
    finally:
        store.dispose()


def test_a_forked_worker_reads_the_counter_whatever_its_parent_was_doing(
        store: Store) -> None:
    """gunicorn forks workers: a read another thread had in flight, or its lock, at the
    moment of the fork must not leave the child waiting for ever."""
    answer(SnoozeMemory(store), hook_call(finding(Topic.FRACTURE, SADDLE), at=T0))
    reader = store._version_reader
    assert reader is not None
    read_end, write_end = os.pipe()
    with reader._turn:  # as if another thread were mid-read, holding the lock, at the fork
        reader._reading = True
        child = os.fork()
        if child == 0:
            os.close(read_end)
            try:
                os.write(write_end, str(reader.read(time.monotonic() + 5)).encode())
            finally:
                os._exit(0)
        reader._reading = False
    os.close(write_end)
    answered, _, _ = io_select.select([read_end], [], [], 15)
    if not answered:  # stuck on its parent's lock: end it, and say so
        os.kill(child, signal.SIGKILL)
    with os.fdopen(read_end, "rb") as pipe:
        said = pipe.read().decode() if answered else "(no answer within 15 s)"
    os.waitpid(child, 0)
    assert said == "0"  # no snooze yet: the counter read in the child
