"""The background writer of the hook path (CallWriter): records move off the response's
critical path without being lost, on both databases.

Guarantees under test: everything queued is written by ``flush()`` and at process exit;
feedback for a card whose record is still queued is accepted; a database that refuses the
write is counted, and the hook call is answered anyway.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

import fhir_samples
from cds_rules.model import Topic
from service.db import AuditEvent, IssuedCard, make_engine
from service.migrations import upgrade
from service.store import (
    CallWriter,
    CardsPending,
    FeedbackItem,
    SnoozeMemory,
    Store,
    UnknownCards,
)
from tests.helpers import SERVICE_OF_HOOK
from tests.integration.test_store_gunicorn import SCENARIO, free_port
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import (
    HASH_KEY,
    RETENTION,
    SADDLE,
    T0,
    answer,
    finding,
    hook_call,
    settings_for,
)

ROOT = Path(__file__).resolve().parents[2]


def rows(store: Store, model: type[Any]) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def background_memory(store: Store) -> SnoozeMemory:
    """The memory as the app builds it (service.store.init_app)."""
    writer = CallWriter(store)
    store.flush_pending = writer.flush
    return SnoozeMemory(store, writer)


def db_errors(operation: str) -> float:
    value = REGISTRY.get_sample_value("backpain_cds_db_errors_total", {"operation": operation})
    return value or 0.0


def test_flush_writes_every_queued_call_in_order(store: Store) -> None:
    memory = background_memory(store)
    calls = [hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0) for _ in range(50)]
    for call in calls:
        answer(memory, call)
    memory.flush()
    assert rows(store, AuditEvent) == 50
    assert rows(store, IssuedCard) == 50
    with store.engine.connect() as conn:
        written = list(conn.execute(select(AuditEvent.hook_instance).order_by(AuditEvent.id)))
    assert [r[0] for r in written] == [c.hook_instance for c in calls]


def queued_calls() -> float | None:
    return REGISTRY.get_sample_value("backpain_cds_writer_queued", {"writer": "calls"})


def test_the_queued_gauge_counts_the_calls_waiting_and_returns_to_zero(store: Store) -> None:
    memory = background_memory(store)
    assert memory.writer is not None
    memory.writer.BATCH_WAIT_S = 30.0  # the thread holds its batch until flush() hurries it
    for _ in range(3):
        answer(memory, hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0))
    assert queued_calls() == 3
    memory.flush()
    assert queued_calls() == 0
    assert rows(store, AuditEvent) == 3


def test_a_replayed_batch_skips_exactly_the_calls_already_stored(store: Store) -> None:
    """A spool replayed after a crash may hold calls that were committed after all: those
    (same hookInstance at the same time) are skipped, whatever else was stored at that
    moment; a call of the same moment that is not stored yet, or the same hookInstance at
    another time, is written."""
    def record(call: Any) -> Any:
        return store.prepare_call(call, call.evaluation.cards)

    crowd = [hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0) for _ in range(120)]
    store.write_calls([record(call) for call in crowd])
    committed = crowd[7]
    new_same_moment = hook_call(finding(Topic.CAUDA_EQUINA, SADDLE), at=T0)
    retried_later = hook_call(finding(Topic.CAUDA_EQUINA, SADDLE), at=T0 + timedelta(seconds=1))
    retried_later.hook_instance = committed.hook_instance
    written = store.write_calls([record(committed), record(new_same_moment),
                                 record(retried_later)], replay=True)
    assert written == 2
    with store.engine.connect() as conn:
        audited = list(conn.execute(select(AuditEvent.hook_instance, AuditEvent.received_at)))
    assert len(audited) == 122
    assert sum(1 for instance, _ in audited if instance == committed.hook_instance) == 2
    assert sum(1 for instance, _ in audited if instance == new_same_moment.hook_instance) == 1
    assert rows(store, IssuedCard) == 122


def test_a_replayed_record_whose_hook_instance_is_not_text_is_written(store: Store) -> None:
    """PostgreSQL stores a UUID object as its text, and the check reads back by that text:
    such a record (not what the shell makes) is written, not refused (SQLite refuses the
    object itself, before and after the narrower check)."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite cannot bind a UUID object at all")
    call = hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0)
    record = store.prepare_call(call, call.evaluation.cards)
    record.audit["hook_instance"] = uuid.UUID(call.hook_instance)
    assert store.write_calls([record], replay=True) == 1
    assert store.write_calls([record], replay=True) == 0  # and recognised once stored


def test_feedback_for_a_card_still_queued_is_accepted(tmp_path: Path) -> None:
    """Another connection holds SQLite's write lock, so the record is still queued when
    the feedback arrives; whichever of the two gets the lock first, the feedback is
    stored (if first, it finds the card unknown, flushes the writer and looks again)."""
    path = tmp_path / "memory.sqlite3"
    store = Store.from_settings(settings_for(f"sqlite:///{path}"))
    upgrade(store.engine)
    memory = background_memory(store)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # holds SQLite's one write lock
    call = hook_call(finding(Topic.CAUDA_EQUINA, SADDLE), at=T0)
    card = answer(memory, call)[0]
    threading.Timer(0.3, blocker.rollback).start()
    result = store.add_feedback(call.service_id, [FeedbackItem(
        card=card.uuid, outcome="accepted", outcome_timestamp=T0,
        accepted_suggestions=(card.suggestions[0].uuid,))])
    assert result.stored == 1
    store.dispose()


def test_a_database_that_refuses_the_write_is_counted_and_the_call_answered(
        store: Store) -> None:
    """The call is answered; the refused batch is retried, then waits in the spool and is
    written once the database takes writes again: nothing is lost, nothing doubled."""
    memory = background_memory(store)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_event RENAME TO audit_gone")
    before = db_errors("record_call"), spooled_calls()
    call = hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0)
    assert answer(memory, call) == call.evaluation.cards
    memory.flush()
    assert db_errors("record_call") > before[0]
    assert spooled_calls() == before[1] + 1
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_gone RENAME TO audit_event")
    answer(memory, hook_call(finding(Topic.CAUDA_EQUINA, SADDLE), at=T0))
    memory.flush()
    wait_for(lambda: rows(store, AuditEvent) == 2)  # the spooled call replayed too
    time.sleep(0.3)
    assert rows(store, AuditEvent) == 2 and rows(store, IssuedCard) == 2


def spooled_calls() -> float:
    return REGISTRY.get_sample_value("backpain_cds_writer_spool_calls_total",
                                      {"event": "spooled"}) or 0.0


def wait_for(condition: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_calls_queued_when_the_process_exits_are_written(database_url: str) -> None:
    """A worker that exits right after answering (no explicit flush) loses nothing."""
    store = Store.from_settings(settings_for(database_url))
    upgrade(store.engine)
    script = textwrap.dedent(f"""
        from service.store import Store
        from tests.store_support import settings_for, answer, finding, hook_call, T0, RETENTION
        from tests.integration.test_store_writer import background_memory
        from cds_rules.model import Topic
        store = Store.from_settings(settings_for({database_url!r}))
        memory = background_memory(store)
        for _ in range(200):
            answer(memory, hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0))
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "BACKPAIN_CDS_PATIENT_HASH_KEY": HASH_KEY})
    assert rows(store, AuditEvent) == 200
    store.dispose()


def test_an_idle_writer_thread_ends_and_the_next_call_starts_one(store: Store) -> None:
    memory = background_memory(store)
    assert memory.writer is not None
    memory.writer.IDLE_EXIT_S = 0.05  # 10 s in service
    answer(memory, hook_call(finding(Topic.CAUDA_EQUINA, RETENTION), at=T0))
    memory.flush()
    deadline = time.monotonic() + 10
    while memory.writer.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not memory.writer.running
    answer(memory, hook_call(finding(Topic.CAUDA_EQUINA, SADDLE), at=T0))
    memory.flush()
    assert rows(store, AuditEvent) == 2


def test_a_gunicorn_worker_stopped_right_after_answering_writes_its_calls(
        database_url: str, tmp_path: Path) -> None:
    """The real server (3 workers, forked from the preloaded master) answers calls and is
    stopped at once with SIGTERM: every call it answered is in the audit, every card it
    sent is an issued card."""
    engine = make_engine(database_url)
    upgrade(engine)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPAIN_CDS_")}
    env.update(BACKPAIN_CDS_DATABASE_URL=database_url, BACKPAIN_CDS_PATIENT_HASH_KEY=HASH_KEY,
               BACKPAIN_CDS_ALLOW_UNAUTHENTICATED="1",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "3"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=log.open("wb"))
    scenario = fhir_samples.load(SCENARIO)
    url = f"http://127.0.0.1:{port}/cds-services/{SERVICE_OF_HOOK[scenario.hook]}"
    try:
        wait_until_serving(url, process, log)
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: post(url, scenario.request_body()), range(60)))
    finally:
        process.terminate()
        process.wait(timeout=60)
    cards = [card["uuid"] for cards in answers for card in cards]
    assert cards, "the scenario must raise at least one card"
    with engine.connect() as conn:
        audited = conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        issued = set(conn.execute(select(IssuedCard.card_uuid)).scalars())
    engine.dispose()
    assert audited == 60
    assert issued >= set(cards)


def post(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.Client(timeout=30) as client:  # a new connection each: any worker
        answer = client.post(url, json=body)
        answer.raise_for_status()
        cards: list[dict[str, Any]] = answer.json()["cards"]
        return cards


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            httpx.get(url.rsplit("/", 1)[0], timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def test_feedback_on_a_card_still_on_its_way_is_503_never_404(store: Store) -> None:
    """The audit table is away, so the call's rows wait in the spool: feedback on its card
    (ours: its uuid says so) is "retry" (CardsPending, answered 503), never "unknown card";
    once the table is back the spool is replayed and the feedback stored. A card we never
    issued is still unknown at once."""
    memory = background_memory(store)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_event RENAME TO audit_gone")
    call = hook_call(finding(Topic.CAUDA_EQUINA, SADDLE), at=T0)
    card = answer(memory, call)[0]
    memory.flush()
    entry = FeedbackItem(card=card.uuid, outcome="accepted", outcome_timestamp=T0,
                         accepted_suggestions=(card.suggestions[0].uuid,))
    with pytest.raises(CardsPending):
        store.add_feedback(call.service_id, [entry])
    with pytest.raises(UnknownCards):
        store.add_feedback(call.service_id, [FeedbackItem(
            card=str(uuid.uuid4()), outcome="overridden", outcome_timestamp=T0,
            user_comment="x")])
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_gone RENAME TO audit_event")
    wait_for(lambda: rows(store, IssuedCard) == 1)
    assert store.add_feedback(call.service_id, [entry]).stored == 1
