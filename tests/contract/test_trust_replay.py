"""Replay protection spans replicas: two app instances sharing one database (a SQLite file,
and PostgreSQL — mandatory under CI=true) accept a token once between them. When the
replay store cannot answer, each worker checks in its own memory (a token is still refused
twice by the same worker), and what it accepted reaches the store once it is back."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from service.app import create_app
from service.config import Settings
from service.store import Store
from tests.store_support import *  # noqa: F403  (database_url: SQLite file and PostgreSQL)
from tests.trust_support import (
    BASE,
    DISCOVERY,
    HASH_KEY,
    SERVICE,
    Signer,
    TrustedApp,
    assert_unauthorized,
    client_entry,
    make_trusted_app,
    rejections,
)


@pytest.fixture(scope="module")
def key() -> Signer:
    return Signer.ec("ES384", "replica-test")


@pytest.fixture
def replicas(database_url: str, tmp_path: Path, key: Signer) -> Iterator[list[TrustedApp]]:
    """Two independently built apps on the same database. The database bound is generous:
    past it the replay check degrades to each worker's memory by design (tested below with an
    unreachable database), which a loaded machine's slow SQLite lock must not trigger here."""
    apps = [make_trusted_app(tmp_path, [client_entry(key)], database_url,
                             db_timeout_seconds=30.0) for _ in range(2)]
    assert apps[0].store is not apps[1].store
    yield apps
    for app in apps:
        app.dispose()


def test_token_replayed_on_another_replica_is_refused(replicas: list[TrustedApp],
                                                      key: Signer) -> None:
    first, second = replicas
    token = key.token(SERVICE)
    assert first.call(SERVICE, token).status_code != 401
    before = rejections("replay")
    assert_unauthorized(second.call(SERVICE, token))
    assert_unauthorized(first.call(SERVICE, token))
    assert rejections("replay") == before + 2
    fresh = key.token(SERVICE)
    assert second.call(SERVICE, fresh).status_code != 401
    assert second.seen[-1].client_iss is not None


def test_concurrent_replays_across_replicas_win_once(replicas: list[TrustedApp],
                                                     key: Signer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    token = key.token(DISCOVERY)
    barrier = threading.Barrier(8)

    def call(index: int) -> int:
        client = replicas[index % 2].client
        barrier.wait()
        return client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(call, range(8)))
    assert sum(status != 401 for status in statuses) == 1, [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def local_claims() -> float:
    return REGISTRY.get_sample_value("backpain_cds_replay_local_claims_total",
                                      {"fallback": "worker-memory"}) or 0.0


def test_unreachable_replay_store_falls_back_to_this_workers_memory(
        tmp_path: Path, key: Signer) -> None:
    """A database nobody listens on (port 1): the token is claimed in this worker's memory
    instead (cards are still served), and is still refused the second time."""
    clients_file = tmp_path / "clients.json"
    clients_file.write_text(json.dumps([client_entry(key)]), encoding="utf-8")
    app = create_app(Settings(
        trusted_clients_file=str(clients_file), public_base_url=BASE,
        patient_hash_key=HASH_KEY,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
    ))
    token = key.token(DISCOVERY)
    before = rejections("replay"), local_claims()
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(DISCOVERY, headers=headers).status_code == 200
    assert REGISTRY.get_sample_value("backpain_cds_replay_store_degraded",
                                      {"fallback": "worker-memory"}) == 1
    assert_unauthorized(app.test_client().get(DISCOVERY, headers=headers))
    assert (rejections("replay"), local_claims()) == (before[0] + 1, before[1] + 2)


def test_claims_made_while_the_store_was_away_reach_it_when_it_returns(
        tmp_path: Path, key: Signer) -> None:
    """Two replicas on one SQLite file whose seen_jti table goes away: the first replica
    accepts a token on its own; once the table is back, that claim is written to it, so
    the other replica refuses the token too."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    first, second = (make_trusted_app(tmp_path, [client_entry(key)], url) for _ in range(2))
    try:
        with first.store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE seen_jti RENAME TO seen_jti_gone")
        token = key.token(SERVICE)
        assert first.call(SERVICE, token).status_code != 401  # answered, not refused
        assert first.trust.replay.degraded
        with first.store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE seen_jti_gone RENAME TO seen_jti")
        time.sleep(first.store.hook_bound.cooldown + 0.1)  # the next call probes the store
        assert first.call(SERVICE, key.token(SERVICE)).status_code != 401
        assert not first.trust.replay.degraded
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _stored(first):
            time.sleep(0.1)
        assert_unauthorized(second.call(SERVICE, token))
    finally:
        first.dispose()
        second.dispose()


def _stored(app: TrustedApp) -> bool:
    with app.store.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM seen_jti WHERE jti NOT LIKE "
                                     "'readyz%'").scalar_one()
        return int(count) >= 2


def test_missing_replay_store_checks_in_memory(tmp_path: Path, key: Signer) -> None:
    trusted = make_trusted_app(tmp_path, [client_entry(key)],
                               f"sqlite:///{tmp_path / 'db.sqlite3'}")
    store: Store = trusted.app.extensions["backpain"].pop("store")
    try:
        token = key.token(DISCOVERY)
        assert trusted.call(DISCOVERY, token).status_code == 200
        before = rejections("replay")
        assert_unauthorized(trusted.call(DISCOVERY, token))
        assert rejections("replay") == before + 1
    finally:
        store.dispose()
