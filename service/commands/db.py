"""``backpain-cds db upgrade|downgrade|current|purge``: the memory's schema and retention."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from service import migrations
from service.commands._common import run_on_store
from service.config import ConfigError, Settings, load_settings
from service.db import make_engine
from service.preflight import display_url
from service.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database migrations and retention")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="migrate to REVISION (default: head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_upgrade)
    down = actions.add_parser("downgrade", help="migrate back to REVISION (e.g. base)")
    down.add_argument("revision")
    down.set_defaults(func=_downgrade)
    actions.add_parser("current", help="print the current revision; exit status 1 when it "
                       "is not this version's head (run `db upgrade`)").set_defaults(func=_current)
    purge = actions.add_parser("purge", help="delete audit older than AUDIT_RETENTION_DAYS, "
                               "expired JWT ids and expired snoozes")
    purge.set_defaults(func=_purge)


def _settings() -> Settings | None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return None
    print(f"database: {display_url(settings.database_url)}", file=sys.stderr)
    return settings


def _engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


def _upgrade(args: argparse.Namespace) -> int:
    return _migrate(migrations.upgrade, args.revision)


def _downgrade(args: argparse.Namespace) -> int:
    return _migrate(migrations.downgrade, args.revision)


def _migrate(step: Callable[[Engine, str], None], revision: str) -> int:
    settings = _settings()
    if settings is None:
        return 2
    engine = _engine(settings)
    try:
        step(engine, revision)
        print(f"database at revision {migrations.current(engine) or 'base'}")
    finally:
        engine.dispose()
    return 0


def _current(_args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    engine = _engine(settings)
    try:
        current = migrations.current(engine)
    finally:
        engine.dispose()
    head = migrations.head()
    print(current or "base (not migrated)")
    if current != head:
        print(f"not at this version's head {head}: run `backpain-cds db upgrade`",
              file=sys.stderr)
        return 1
    return 0


def _purge(_args: argparse.Namespace) -> int:
    return run_on_store(_purge_expired, hashes=False)


def _purge_expired(store: Store, settings: Settings) -> str:
    deleted = store.purge(settings.audit_retention_days)
    return ", ".join(f"{table}: {count} deleted" for table, count in deleted.items()) + "\n"
