"""Database faults under load, on the real servers: two gunicorn replicas (trust on) on a
PostgreSQL of the test's own, stopped for 10 s and then frozen (SIGSTOP) for 20 s while
clients keep calling the hook and posting feedback to the other replica.

Afterwards: no hook call refused (401) or failed, hook latency during the freeze within
the configured bound + 1 s, every card answered 200 in ``issued_card`` and every call in
the audit (once), every feedback answered 200 stored, and every feedback answered 503
accepted on retry (never 404). Then a worker is killed with SIGKILL while its writer is
stuck on the frozen database: its replacement replays the spool, nothing it answered is
lost. About a minute on 2 cores; select with ``-m faults``.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

import fhir_samples
from cds_rules.model import OVERRIDE_REASON_SYSTEM
from tests.helpers import SERVICE_OF_HOOK
from tests.integration.test_gunicorn_server import Server, settled_worker_pids, start_server, stop
from tests.ops_support import http
from tests.pg_instance import PgInstance, module_postgres
from tests.trust_support import BASE, Signer, client_entry

pytestmark = pytest.mark.faults

SCENARIO = "ces-diagnosis-g834"  # a coded cauda equina diagnosis: a card at any date
BOUND_S = 1.0  # BACKPAIN_CDS_DB_TIMEOUT_SECONDS of the replicas
HASH_KEY = "faults-test-patient-hash-key-0123456789abcdef"


@dataclass
class Outcome:
    kind: str  # hook | feedback
    status: int
    started: float
    seconds: float
    cards: list[str] = field(default_factory=list)
    hook_instance: str = ""
    entry: dict[str, Any] | None = None
    replica: int = 0


pg = pytest.fixture(scope="module", name="pg")(module_postgres)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.ec("ES384", "faults-1")


def replica(tmp: Path, pg: PgInstance, signer: Signer, name: str) -> Server:
    clients = tmp / "clients.json"
    clients.write_text(json.dumps([client_entry(signer)]))
    return start_server(tmp, name=name, workers=1, DATABASE_URL=pg.url,
                        ALLOW_UNAUTHENTICATED="0", TRUSTED_CLIENTS_FILE=str(clients),
                        PUBLIC_BASE_URL=BASE, PATIENT_HASH_KEY=HASH_KEY,
                        DB_TIMEOUT_SECONDS=str(BOUND_S), SPOOL_DIR=str(tmp / f"spool-{name}"))


@pytest.fixture(scope="module")
def replicas(pg: PgInstance, signer: Signer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    servers = [replica(tmp_path_factory.mktemp(name), pg, signer, name) for name in "AB"]
    yield servers
    for server in servers:
        stop(server)


class Load:
    """Paced hook calls alternating between replicas; feedback on each answer's first card
    to the other replica; every outcome kept."""

    def __init__(self, servers: list[Server], signer: Signer) -> None:
        self.servers, self.signer = servers, signer
        self.scenario = fhir_samples.load(SCENARIO)
        self.path = f"/cds-services/{SERVICE_OF_HOOK[self.scenario.hook]}"
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def call(self, index: int) -> Outcome:
        body = self.scenario.request_body()
        body["hookInstance"] = str(uuid.uuid4())
        started = time.monotonic()
        status, _, answer = http(self.servers[index % 2].base, self.path, body, headers={
            "Authorization": f"Bearer {self.signer.token(self.path)}"})
        cards = [c["uuid"] for c in json.loads(answer)["cards"]] if status == 200 else []
        return self._keep(Outcome("hook", status, started, time.monotonic() - started, cards,
                                  body["hookInstance"], replica=index % 2))

    def feedback(self, card: str, index: int) -> Outcome:
        entry = {"card": card, "outcome": "overridden",
                 "outcomeTimestamp": datetime.now(UTC).isoformat(),
                 "overrideReason": {"reason": {"system": OVERRIDE_REASON_SYSTEM,
                                               "code": "not-applicable"}}}
        return self.post_feedback(entry, index)

    def post_feedback(self, entry: dict[str, Any], index: int) -> Outcome:
        path = f"{self.path}/feedback"
        started = time.monotonic()
        status, _, _ = http(self.servers[index % 2].base, path, {"feedback": [entry]},
                            headers={"Authorization": f"Bearer {self.signer.token(path)}"})
        return self._keep(Outcome("feedback", status, started, time.monotonic() - started,
                                  entry=entry, replica=index % 2))

    def _keep(self, outcome: Outcome) -> Outcome:
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def client(self, offset: int) -> None:
        index = offset
        while not self.stop.is_set():
            answered = self.call(index)
            if answered.cards:
                self.feedback(answered.cards[0], index + 1)  # the other replica
            index += 2
            time.sleep(0.2)


def test_stop_and_freeze_under_load_lose_nothing_and_refuse_nothing(
        pg: PgInstance, replicas: list[Server], signer: Signer) -> None:
    load = Load(replicas, signer)
    with ThreadPoolExecutor(3) as pool:
        clients = [pool.submit(load.client, n) for n in range(3)]
        time.sleep(2)
        pg.stop()
        time.sleep(10)
        pg.start()
        time.sleep(3)
        freeze_from = time.monotonic()
        frozen = pg.freeze()
        time.sleep(20)
        pg.thaw(frozen)
        freeze_to = time.monotonic()
        time.sleep(3)
        load.stop.set()
        for client in clients:
            client.result(timeout=60)

    hooks = [o for o in load.outcomes if o.kind == "hook"]
    assert hooks and all(o.status == 200 for o in hooks), \
        sorted({o.status for o in hooks if o.status != 200})
    assert sum(bool(o.cards) for o in hooks) == len(hooks)  # cards through every fault
    during = sorted(o.seconds for o in hooks if freeze_from <= o.started < freeze_to)
    assert len(during) >= 10
    assert during[int(0.99 * (len(during) - 1))] <= BOUND_S + 1.0, during[-5:]

    first_feedback = [o for o in load.outcomes if o.kind == "feedback"]
    assert {o.status for o in first_feedback} <= {200, 503}
    assert any(o.status == 503 for o in first_feedback)  # the faults were felt
    retried = [load.post_feedback(o.entry, o.replica) for o in first_feedback
               if o.status == 503 and o.entry is not None]
    assert all(o.status == 200 for o in retried), [o.status for o in retried]

    engine = create_engine(pg.url)
    cards = {card for o in hooks for card in o.cards}
    calls = [o.hook_instance for o in hooks]
    stored_feedback = {(o.entry["card"], o.entry["outcomeTimestamp"])
                       for o in [*first_feedback, *retried] if o.status == 200 and o.entry}
    try:
        _until(lambda: _issued(engine, cards) == cards, 60)
        with engine.connect() as conn:
            audited = conn.execute(text(
                "SELECT hook_instance, count(*) FROM audit_event GROUP BY hook_instance"
            )).all()
            feedback = {(card, when.isoformat()) for card, when in conn.execute(text(
                "SELECT card_uuid, outcome_timestamp AT TIME ZONE 'UTC' FROM feedback"))}
    finally:
        engine.dispose()
    counts = dict(audited)
    assert all(counts.get(call) == 1 for call in calls), "a call missing or doubled"
    assert {(c, _naive_utc(t)) for c, t in stored_feedback} <= feedback

    metrics = http(replicas[0].base, "/metrics")[2].decode()
    assert _metric(metrics, "backpain_cds_replay_local_claims_total") > 0
    assert _metric(metrics, "backpain_cds_db_timeouts_total") > 0


def test_a_worker_killed_mid_batch_loses_nothing_it_answered(
        pg: PgInstance, signer: Signer, tmp_path: Path) -> None:
    """The database is frozen, so the worker's writer hangs mid-batch; SIGKILL. Its rows
    were appended to the spool before each answer: the replacement worker replays them."""
    server = replica(tmp_path, pg, signer, "killed")
    load = Load([server, server], signer)
    try:
        [worker] = settled_worker_pids(server.process.pid, 1)
        frozen = pg.freeze()
        try:
            answered = [load.call(n) for n in range(6)]
            time.sleep(0.3)  # the writer has taken its batch and waits on the database
            signal_worker(worker)
        finally:
            pg.thaw(frozen)
        assert all(o.status == 200 and o.cards for o in answered)
        _until(lambda: settled_worker_pids(server.process.pid, 1) not in ([], [worker]), 30)
        engine = create_engine(pg.url)
        cards = {card for o in answered for card in o.cards}
        try:
            _until(lambda: _issued(engine, cards) == cards, 60)
            with engine.connect() as conn:
                audited = dict(conn.execute(text(
                    "SELECT hook_instance, count(*) FROM audit_event "
                    "WHERE hook_instance = ANY(:calls) GROUP BY hook_instance"),
                    {"calls": [o.hook_instance for o in answered]}).all())
        finally:
            engine.dispose()
        assert audited == {o.hook_instance: 1 for o in answered}
        # the worker's log writer gathers lines for up to 50 ms after the replay committed
        _until(lambda: "spool replay" in server.log(), 10)
    finally:
        stop(server)


def signal_worker(pid: int) -> None:
    import os

    os.kill(pid, signal.SIGKILL)


def _issued(engine: Any, cards: set[str]) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT card_uuid FROM issued_card WHERE "
                                     "card_uuid = ANY(:cards)"), {"cards": list(cards)})
                   .scalars())


def _until(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.5)


def _naive_utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None).isoformat()


def _metric(text_format: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$",
                                            text_format, re.MULTILINE))
