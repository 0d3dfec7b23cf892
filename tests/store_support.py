"""Database fixtures for the memory's tests: every test runs on SQLite and PostgreSQL.

Test modules take the fixtures with ``from tests.store_support import *`` (``__all__``
lists them) and import helpers by name.
PostgreSQL tests get a fresh schema (random name, via ``search_path``) that is dropped
afterwards; they skip locally without a server and fail under CI=true (``require``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cds_rules import (
    OVERRIDE_REASON_SYSTEM,
    TOPIC_SYSTEM,
    Card,
    Evaluation,
    Fact,
    Finding,
    Topic,
    wire,
)
from service.config import Settings
from service.migrations import upgrade
from service.ports import HookCall
from service.store import FeedbackItem, SnoozeMemory, Store
from tests.conftest import require

__all__ = ["clock", "database_url", "pg_schema_url", "store"]  # the fixtures

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


# --- scenario-like hook calls, as the shell hands them to the memory -------------------

SERVICE = "back-pain-patient-view"
PATIENT = "pat-ces-0001"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

RETENTION = Fact("urinary_retention", "Urinary retention", "Condition/c1", "Condition",
                 when=T0 - timedelta(days=2))
SADDLE = Fact("saddle_anaesthesia", "Saddle anaesthesia", "Condition/c2", "Condition",
              when=T0 - timedelta(days=1))
WEAK = Fact("muscle_strength_grade", "MRC grade", "Observation/o1", "Observation",
            when=T0 - timedelta(days=1), value=4.0)


def finding(topic: Topic, *facts: Fact, indicator: str = "warning") -> Finding:
    return Finding(topic=topic, rule_id=f"{topic.value.upper()}-01", rule_version="1.0.0",
                   indicator=indicator, summary="test", facts=facts)  # type: ignore[arg-type]


def card_for(found: Finding, suggestions: int = 1) -> Card:
    return Card(
        uuid=str(uuid.uuid4()), summary=found.summary, indicator=found.indicator,
        source=wire.Source(label="backpain-cds", topic=wire.Coding(
            system=TOPIC_SYSTEM, code=found.topic.value)),
        suggestions=tuple(wire.Suggestion(uuid=str(uuid.uuid4()), label=f"s{i}")
                          for i in range(suggestions)),
        selection_behavior="any" if suggestions else None,
    )


def hook_call(*findings: Finding, at: datetime, patient: str = PATIENT,
              service: str = SERVICE) -> HookCall:
    evaluation = Evaluation(findings=list(findings), cards=[card_for(f) for f in findings])
    evaluation.quality.skipped_invalid = 2
    evaluation.quality.other_patient_dropped = 1
    return HookCall(service_id=service, hook="patient-view", hook_instance=str(uuid.uuid4()),
                    patient_id=patient, client_iss="https://ehr.example.org", received_at=at,
                    evaluation=evaluation, latency_ms=12.5, data_gaps=("Observation",))


def override(card: Card | str, code: str | None = "already-assessed", at: datetime = T0,
             comment: str | None = None) -> FeedbackItem:
    """The clinician's override of ``card`` (a card or its uuid) with one of our reasons
    (the default snoozes it), or with none (``code`` None) and a comment."""
    return FeedbackItem(card=card if isinstance(card, str) else card.uuid, outcome="overridden",
                        outcome_timestamp=at,
                        reason_system=OVERRIDE_REASON_SYSTEM if code else None,
                        reason_code=code, user_comment=comment)


def answer(memory: SnoozeMemory, call: HookCall) -> list[Card]:
    """What the shell does on every hook call: the cards sent, with their issued uuids.

    For the tests' convenience the call's evaluation then holds the sent cards in place
    of the core's (feedback names a card by its issued uuid)."""
    hidden = memory.suppress_snoozed(call)
    shown = [card for card in call.evaluation.cards if not any(card is h for h in hidden)]
    sent = memory.record_call(call, shown, hidden)
    issued = dict(zip(map(id, shown), sent, strict=True))
    call.evaluation.cards = [issued.get(id(card), card) for card in call.evaluation.cards]
    return sent



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _pg_schema_url() -> Iterator[str]:
    """A URL whose connections see only a fresh schema (search_path), dropped afterwards."""
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


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """PostgreSQL only: an empty fresh schema."""
    yield from _pg_schema_url()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated): a SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'memory.sqlite3'}"
    else:
        yield from _pg_schema_url()


def settings_for(database_url: str, **changes: object) -> Settings:
    return Settings(database_url=database_url, patient_hash_key=HASH_KEY).replace(**changes)


def migrated_store(database_url: str, clock: FakeClock, **changes: object) -> Store:
    """A store on ``database_url`` with the schema at head, on ``clock`` (``changes``: settings)."""
    memory_store = Store.from_settings(settings_for(database_url, **changes), clock=clock)
    upgrade(memory_store.engine)
    return memory_store


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Iterator[Store]:
    """A migrated store on the parametrised database, on the fake clock."""
    memory_store = migrated_store(database_url, clock)
    yield memory_store
    memory_store.dispose()
