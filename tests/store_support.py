"""Database fixtures for the memory's tests: every test runs on SQLite and PostgreSQL.

Test modules take the fixtures with ``from tests.store_support import *`` (``__all__``
lists them) and import helpers by name.
PostgreSQL tests get a fresh schema (random name, via ``search_path``) that is dropped
afterwards; they skip locally without a server and fail under CI=true (``require``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from service.config import Settings
from service.migrations import upgrade
from service.store import Store
from tests.conftest import require

__all__ = ["clock", "database_url", "store"]  # the fixtures

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HASH_KEY = "test-patient-hash-key-0123456789abcdef"


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN):
            return True
    except psycopg.Error:
        return False


@dataclass
class FakeClock:
    """The service clock, moved by hand: expiry is tested by passing time, never sleeping."""

    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _pg_schema_url() -> Iterator[str]:
    require(pg_available(), "PostgreSQL")
    schema = f"bpcd_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated): a SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'memory.sqlite3'}"
    else:
        yield from _pg_schema_url()


def settings_for(database_url: str, **changes: object) -> Settings:
    return Settings(database_url=database_url, patient_hash_key=HASH_KEY).replace(**changes)


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Iterator[Store]:
    """A migrated store on the parametrised database, on the fake clock."""
    memory_store = Store.from_settings(settings_for(database_url), clock=clock)
    upgrade(memory_store.engine)
    yield memory_store
    memory_store.dispose()
