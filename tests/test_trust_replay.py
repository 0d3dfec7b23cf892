"""Replay protection spans replicas: two app instances sharing one database (a SQLite file,
and PostgreSQL — mandatory under CI=true) accept a token once between them. When the
replay store cannot answer, the token is refused (fail closed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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
    """Two independently built apps on the same database."""
    apps = [make_trusted_app(tmp_path, [client_entry(key)], database_url) for _ in range(2)]
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
                                                     key: Signer) -> None:
    token = key.token(DISCOVERY)
    barrier = threading.Barrier(8)

    def call(index: int) -> int:
        client = replicas[index % 2].client
        barrier.wait()
        return client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(call, range(8)))
    assert sum(status != 401 for status in statuses) == 1


def test_unreachable_replay_store_fails_closed(tmp_path: Path, key: Signer) -> None:
    """A database nobody listens on (port 1): the token cannot be claimed, so it is refused."""
    clients_file = tmp_path / "clients.json"
    clients_file.write_text(json.dumps([client_entry(key)]), encoding="utf-8")
    app = create_app(Settings(
        trusted_clients_file=str(clients_file), public_base_url=BASE,
        patient_hash_key=HASH_KEY,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
    ))
    before = rejections("replay-store-unavailable")
    response = app.test_client().get(
        DISCOVERY, headers={"Authorization": f"Bearer {key.token(DISCOVERY)}"})
    assert_unauthorized(response)
    assert rejections("replay-store-unavailable") == before + 1


def test_missing_replay_store_fails_closed(tmp_path: Path, key: Signer) -> None:
    trusted = make_trusted_app(tmp_path, [client_entry(key)],
                               f"sqlite:///{tmp_path / 'db.sqlite3'}")
    store: Store = trusted.app.extensions["backpain"].pop("store")
    try:
        before = rejections("replay-store-unavailable")
        assert_unauthorized(trusted.call(DISCOVERY, key.token(DISCOVERY)))
        assert rejections("replay-store-unavailable") == before + 1
    finally:
        store.dispose()
