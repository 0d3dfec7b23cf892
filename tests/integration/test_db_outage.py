"""The database goes away mid-run and comes back: hook calls keep answering (every card
shown), failures are counted, feedback is refused (503) rather than lost, and everything
recovers without a restart. Faults are real: a TCP proxy in front of PostgreSQL that is
stopped and restarted, backends killed with pg_terminate_backend, tables renamed away."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import fhir_samples
from cds_rules.model import OVERRIDE_REASON_SYSTEM, Topic
from service.db import AuditEvent, Feedback, Snooze
from service.migrations import upgrade
from service.ports import HookCall
from service.store import FeedbackItem, SnoozeMemory, Store, StoreUnavailable
from tests.helpers import SERVICE_OF_HOOK, make_test_app
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import (
    HASH_KEY,
    PG_ADMIN_DSN,
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
from tests.tcp_proxy import TcpProxy

FRACTURE = finding(Topic.FRACTURE, SADDLE)


def db_errors(operation: str) -> float:
    value = REGISTRY.get_sample_value("backpain_cds_db_errors_total", {"operation": operation})
    return value or 0.0


def after_cooldown(store: Store) -> None:
    """After a failure the hook path skips the database for a cooldown (service.dbguard)."""
    time.sleep(store.hook_bound.cooldown + 0.05)


def count(store: Store, model: type[Any]) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def snooze(call: HookCall, code: str = "already-assessed", at_minute: int = 0) -> FeedbackItem:
    return override(call.evaluation.cards[0], code, T0 + timedelta(minutes=at_minute))


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    forwarder = TcpProxy(("127.0.0.1", 5432))
    forwarder.start()
    yield forwarder
    forwarder.stop()


@pytest.fixture
def proxied_store(pg_schema_url: str, proxy: TcpProxy, clock: FakeClock) -> Iterator[Store]:
    url = make_url(pg_schema_url).set(port=proxy.port).render_as_string(hide_password=False)
    through_proxy = migrated_store(url, clock)
    yield through_proxy
    through_proxy.dispose()


@pytest.mark.postgres
def test_postgres_goes_away_and_comes_back(proxied_store: Store, proxy: TcpProxy) -> None:
    store, memory = proxied_store, SnoozeMemory(proxied_store)
    first = hook_call(FRACTURE, at=T0)
    answer(memory, first)
    store.add_feedback(SERVICE, [snooze(first)])
    assert answer(memory, hook_call(FRACTURE, at=T0 + timedelta(hours=1))) == []

    proxy.stop()
    before = db_errors("suppress_snoozed"), db_errors("record_call"), db_errors("feedback")
    during = hook_call(FRACTURE, at=T0 + timedelta(hours=2))
    assert answer(memory, during) == during.evaluation.cards  # snoozes unreadable: shown
    after = db_errors("suppress_snoozed"), db_errors("record_call"), db_errors("feedback")
    with pytest.raises(StoreUnavailable):
        store.add_feedback(SERVICE, [snooze(first, "managed-elsewhere")])
    assert db_errors("feedback") == after[2] + 1
    assert after[:2] == (before[0] + 1, before[1] + 1)
    with pytest.raises(StoreUnavailable):
        store.claim_jti("jti-during-outage", T0 + timedelta(minutes=5))
    assert store.ping() is False

    proxy.start()
    assert store.ping() is True
    after_cooldown(store)  # the hook path probes the database again
    assert answer(memory, hook_call(FRACTURE, at=T0 + timedelta(hours=3))) == []
    assert store.add_feedback(SERVICE, [snooze(first, "managed-elsewhere")]).stored == 1
    assert count(store, AuditEvent) == 3  # the call during the outage was answered, unrecorded


@pytest.mark.postgres
def test_over_http_hook_calls_answer_and_feedback_is_503_while_postgres_is_away(
        pg_schema_url: str, proxy: TcpProxy, clock: FakeClock) -> None:
    url = make_url(pg_schema_url).set(port=proxy.port).render_as_string(hide_password=False)
    app = make_test_app(clock=clock, database_url=url, patient_hash_key=HASH_KEY)
    upgrade(app.extensions["backpain"]["store"].engine)
    client = app.test_client()
    scenario = fhir_samples.load("ces-urinary-retention-icd10")
    clock.now = scenario.now
    service_url = f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}"

    def topics() -> list[str]:
        response = client.post(service_url, json=scenario.request_body())
        assert response.status_code == 200
        return sorted(card["source"]["topic"]["code"] for card in response.get_json()["cards"])

    def snooze_everything() -> Any:
        cards = client.post(service_url, json=scenario.request_body()).get_json()["cards"]
        return client.post(f"{service_url}/feedback", json={"feedback": [
            {"card": card["uuid"], "outcome": "overridden",
             "outcomeTimestamp": scenario.now.isoformat(),
             "overrideReason": {"reason": {"system": OVERRIDE_REASON_SYSTEM,
                                           "code": "already-assessed"}}}
            for card in cards]})

    shown = topics()
    assert "cauda-equina" in shown
    assert snooze_everything().status_code == 200
    assert topics() == []

    proxy.stop()
    assert topics() == shown  # fail safe: snoozes unreadable, every card shown
    refused = snooze_everything()
    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert refused.get_json()["resourceType"] == "OperationOutcome"

    proxy.start()
    after_cooldown(app.extensions["backpain"]["store"])
    assert topics() == []
    app.extensions["backpain"]["store"].dispose()


@pytest.mark.postgres
def test_feedback_is_never_lost_while_backends_are_killed(pg_schema_url: str,
                                                          clock: FakeClock) -> None:
    """8 threads store 400 entries twice each while another thread keeps terminating the
    store's connections; a client retries what was refused. Every entry ends up stored once."""
    application = f"bpcd-outage-{secrets.token_hex(4)}"
    url = make_url(pg_schema_url).update_query_dict({"application_name": application})
    store = migrated_store(url.render_as_string(hide_password=False), clock)
    memory = SnoozeMemory(store)
    calls = [hook_call(FRACTURE, at=T0) for _ in range(20)]
    for call in calls:
        answer(memory, call)
    entries = [snooze(call, code, minute) for call in calls for minute in range(10)
               for code in ("already-assessed", "not-applicable")]
    killed = 0
    stop = threading.Event()

    def kill_backends() -> None:
        nonlocal killed
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            while not stop.wait(0.1):
                killed += len(admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s", (application,)).fetchall())

    def post_until_stored(item: FeedbackItem) -> None:
        while True:
            try:
                store.add_feedback(SERVICE, [item])
                return
            except StoreUnavailable:
                continue  # what a client does on 503: retry

    killer = threading.Thread(target=kill_backends)
    killer.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(post_until_stored, entries + entries[::-1]))
    finally:
        stop.set()
        killer.join()
    try:
        assert killed > 0
        assert count(store, Feedback) == len(entries) == 400
        assert count(store, Snooze) == 200
    finally:
        store.dispose()


def test_tables_that_go_away_and_come_back(store: Store) -> None:
    memory = SnoozeMemory(store)
    first = hook_call(FRACTURE, at=T0)
    answer(memory, first)
    store.add_feedback(SERVICE, [snooze(first)])

    _rename(store, {"snooze": "snooze_gone", "feedback": "feedback_gone",
                    "audit_event": "audit_gone"})
    during = hook_call(FRACTURE, at=T0 + timedelta(hours=1))
    assert answer(memory, during) == during.evaluation.cards
    with pytest.raises(StoreUnavailable):
        store.add_feedback(SERVICE, [snooze(first, "patient-declined")])

    _rename(store, {"snooze_gone": "snooze", "feedback_gone": "feedback",
                    "audit_gone": "audit_event"})
    after_cooldown(store)
    assert answer(memory, hook_call(FRACTURE, at=T0 + timedelta(hours=2))) == []
    assert store.add_feedback(SERVICE, [snooze(first, "patient-declined")]).stored == 1
    assert count(store, AuditEvent) == 2


def _rename(store: Store, names: dict[str, str]) -> None:
    with store.engine.begin() as conn:
        for old, new in names.items():
            conn.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")


@pytest.mark.postgres
def test_a_hung_database_does_not_hold_the_cards(pg_schema_url: str, clock: FakeClock) -> None:
    """Another session holds an exclusive lock on the snooze and audit tables: the hook path
    gives up after its statement timeout and shows every card."""
    store = migrated_store(pg_schema_url, clock)
    memory = SnoozeMemory(store)
    first = hook_call(FRACTURE, at=T0)
    answer(memory, first)
    store.add_feedback(SERVICE, [snooze(first)])
    options = make_url(pg_schema_url).query["options"]
    assert isinstance(options, str) and options.startswith("-csearch_path=")
    schema = options.removeprefix("-csearch_path=")
    try:
        with psycopg.connect(PG_ADMIN_DSN) as locker:
            locker.execute(f'LOCK TABLE "{schema}".snooze, "{schema}".audit_event '
                           "IN ACCESS EXCLUSIVE MODE")
            before = db_errors("suppress_snoozed"), db_errors("record_call")
            during = hook_call(FRACTURE, at=T0 + timedelta(hours=1))
            assert answer(memory, during) == during.evaluation.cards
            assert (db_errors("suppress_snoozed"), db_errors("record_call")) == (
                before[0] + 1, before[1] + 1)
            locker.rollback()
        after_cooldown(store)
        assert answer(memory, hook_call(FRACTURE, at=T0 + timedelta(hours=2))) == []
    finally:
        store.dispose()
