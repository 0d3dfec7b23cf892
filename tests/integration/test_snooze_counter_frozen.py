"""The snooze counter is read on the request's own thread (issue #15: no hand-off to a pool
thread on every card-producing call). That read must still keep to the hook bound when
the server freezes (SIGSTOP: the kernel accepts and acknowledges, nothing answers):
the call shows every card within the bound, the bound opens, and after the thaw the next
call reconnects and honours a snooze written meanwhile on another replica."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from cds_rules import Topic
from service.store import SnoozeMemory
from tests.pg_instance import PgInstance, module_postgres
from tests.store_support import (
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

BOUND_S = 0.5


pg = pytest.fixture(scope="module", name="pg")(module_postgres)


def timeouts() -> float:
    value = REGISTRY.get_sample_value("backpain_cds_db_timeouts_total",
                                      {"operation": "suppress_snoozed"})
    return value or 0.0


def test_a_frozen_server_costs_the_bound_then_the_counter_reconnects(pg: PgInstance) -> None:
    clock = FakeClock()
    here = migrated_store(pg.url, clock, db_timeout_seconds=BOUND_S)
    there = migrated_store(pg.url, clock, db_timeout_seconds=30.0)
    try:
        fracture = finding(Topic.FRACTURE, SADDLE)
        first = hook_call(fracture, at=T0)
        assert [c.topic for c in answer(SnoozeMemory(here), first)] == ["fracture"]
        before = timeouts()

        frozen = pg.freeze()
        try:
            started = time.monotonic()
            hidden = SnoozeMemory(here).suppress_snoozed(hook_call(fracture, at=T0))
            waited = time.monotonic() - started
        finally:
            PgInstance.thaw(frozen)
        assert hidden == []  # the snoozes could not be read: every card is shown
        assert BOUND_S * 0.9 <= waited < BOUND_S + 1.0, waited
        assert timeouts() == before + 1
        assert here.hook_bound.degraded

        # meanwhile another replica records a snooze of the card
        there.add_feedback(SERVICE, [override(first.evaluation.cards[0])])
        time.sleep(here.hook_bound.cooldown + 0.05)
        again = hook_call(fracture, at=T0 + timedelta(minutes=5))
        assert SnoozeMemory(here).suppress_snoozed(again) == again.evaluation.cards
        assert not here.hook_bound.degraded
    finally:
        here.dispose()
        there.dispose()
