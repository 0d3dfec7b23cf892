"""Alembic migrations: empty -> head -> base -> head on both databases, models in step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service import migrations
from service.cli import main
from service.db import Base, make_engine
from tests.store_support import *  # noqa: F403  (fixtures)

TABLES = {"seen_jti", "issued_card", "feedback", "snooze", "audit_event", "store_version"}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db_engine = make_engine(database_url)
    yield db_engine
    db_engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_down_to_base_and_up_again(engine: Engine) -> None:
    assert migrations.current(engine) is None
    assert tables(engine) == set()
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    assert tables(engine) == TABLES
    migrations.downgrade(engine, "base")
    assert migrations.current(engine) is None
    assert tables(engine) == set()
    migrations.upgrade(engine)
    assert tables(engine) == TABLES


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    migrations.upgrade(engine)
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    """A model changed without a migration (or the reverse) shows up here."""
    migrations.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_db_command_migrates_and_reports(database_url: str, engine: Engine,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKPAIN_CDS_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKPAIN_CDS_ALLOW_UNAUTHENTICATED", "1")
    assert main(["db", "current"]) == 1  # not at head: a deploy gate can tell
    captured = capsys.readouterr()
    assert "base" in captured.out and "run `backpain-cds db upgrade`" in captured.err
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert migrations.head() in capsys.readouterr().out
    assert main(["db", "purge"]) == 0
    assert "audit_event: 0 deleted" in capsys.readouterr().out
    assert main(["db", "downgrade", "base"]) == 0
    assert tables(engine) == set()


def test_the_db_command_refuses_a_bad_configuration(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKPAIN_CDS_SNOOZE_DAYS", "-3")
    assert main(["db", "upgrade"]) == 2
    assert "BACKPAIN_CDS_SNOOZE_DAYS" in capsys.readouterr().err
