"""Pre-flight: every check ``serve`` makes before it answers, runnable on its own.

``backpain-cds config-check`` runs them all and names each problem; ``backpain-cds serve``
runs the same ones and refuses to start on any of them, except a database that does not
answer (a replica may start while PostgreSQL is down: ``/readyz`` keeps it out of the
load balancer until it answers). The checks:

- the settings (every ``BACKPAIN_CDS_*`` variable, ``*_FILE`` secrets, ranges, key strength);
- trust: the trusted-clients file loads, or ``ALLOW_UNAUTHENTICATED`` is set;
- the patient hash key is present (outside local development);
- the database answers and is migrated to this version's head revision;
- the directories the service writes are writable (the SQLite file's, the metrics', the
  audit spool's).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from service.config import PREFIX, ConfigError, Settings, load_settings


@dataclass(slots=True)
class Report:
    """What the checks found: ``problems`` stop start-up; ``unreachable`` is the database
    not answering (a problem for config-check, a warning for serve)."""

    settings: Settings | None = None
    problems: list[str] = field(default_factory=list)
    unreachable: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.unreachable is None


def display_url(url: str) -> str:
    """A database URL safe to print: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by the database check
        return "<unparsable URL>"


def run(environ: Mapping[str, str] | None = None) -> Report:
    """Every check, in order; a settings problem stops the rest (they need the settings)."""
    report = Report()
    try:
        report.settings = load_settings(environ)
    except ConfigError as exc:
        report.problems += exc.problems
        if exc.settings is None:
            return report
        report.settings = exc.settings  # every value parsed: check the rest too
    settings = report.settings
    report.problems += _trust_problems(settings)
    report.problems += _hash_key_problems(settings)
    report.problems += _pages_problems(settings)
    report.problems += _writable_problems(settings, environ)
    report.notes.append(f"database: {display_url(settings.database_url)}")
    status = database_status(settings)
    if status.unreachable:
        report.unreachable = status.message
    elif status.message:
        report.problems.append(status.message)
    return report


def _trust_problems(settings: Settings) -> list[str]:
    from service.trust import NO_CLIENTS_MESSAGE
    from service.trust.clients import load_trusted_clients

    clients: tuple[object, ...] = ()
    if settings.trusted_clients_file:
        try:
            clients = load_trusted_clients(settings.trusted_clients_file,
                                           allow_http_loopback=settings.allow_http_loopback)
        except ConfigError as exc:
            return [str(exc)]
    if not clients and not settings.allow_unauthenticated:
        return [NO_CLIENTS_MESSAGE]
    return []


def _pages_problems(settings: Settings) -> list[str]:
    from service.pages.access import Gate

    try:
        Gate.from_settings(settings)
    except ConfigError as exc:
        return [str(exc)]
    return []


def _hash_key_problems(settings: Settings) -> list[str]:
    if settings.allow_unauthenticated or settings.patient_hash_key:
        return []  # strength is checked with the settings
    from service.store import patient_hash_key

    try:
        patient_hash_key(settings)
    except ConfigError as exc:
        return [str(exc)]
    return []


def _writable_problems(settings: Settings, environ: Mapping[str, str] | None) -> list[str]:
    """The SQLite file's directory (created by ``db upgrade`` if missing) and the metrics
    directory gunicorn's workers write their counters to."""
    env = os.environ if environ is None else environ
    problems = []
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is not None:
        directory = _existing_ancestor(sqlite_file.parent)
        if not os.access(directory, os.W_OK | os.X_OK):
            problems.append(f"database directory {sqlite_file.parent} is not writable by "
                            f"this user (uid {os.getuid()})")
    metrics_dir = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.gettempdir())
    if not os.access(_existing_ancestor(metrics_dir), os.W_OK | os.X_OK):
        problems.append(f"metrics directory {metrics_dir} (PROMETHEUS_MULTIPROC_DIR, else the "
                        "temporary directory) is not writable")
    # the audit writer's spool (BACKPAIN_CDS_SPOOL_DIR where that setting exists; else the
    # temporary directory)
    spool_dir = Path(getattr(settings, "spool_dir", "") or tempfile.gettempdir())
    if not os.access(_existing_ancestor(spool_dir), os.W_OK | os.X_OK):
        problems.append(f"spool directory {spool_dir} (BACKPAIN_CDS_SPOOL_DIR, else the "
                        "temporary directory) is not writable")
    return problems


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _sqlite_file(url: str) -> Path | None:
    """The SQLite database file of ``url``; None for in-memory SQLite or another backend."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    message: str | None = None  # None: answers and is at head
    unreachable: bool = False


UPGRADE_HINT = "run `backpain-cds db upgrade`"


def database_status(settings: Settings) -> DatabaseStatus:
    """Does the database answer, and is it at this version's head revision?

    A SQLite file that does not exist is "not migrated" (connecting would create an empty
    one). A revision this version does not know is newer: migrations are backward
    compatible (deploy/README.md, "Upgrading"), so old replicas keep serving during a
    rolling upgrade, and that is no problem.
    """
    from service import migrations
    from service.db import is_in_memory, make_engine

    url = display_url(settings.database_url)
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        return DatabaseStatus(f"database {url} does not exist (not migrated): {UPGRADE_HINT}")
    try:
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        return DatabaseStatus(f"{PREFIX}DATABASE_URL=<secret>: not a usable database URL "
                              f"({type(exc).__name__}: {_first_line(exc)})")
    try:
        if is_in_memory(engine):
            return DatabaseStatus()  # created by the store itself at start
        current = migrations.current(engine)
    except SQLAlchemyError as exc:
        return DatabaseStatus(f"database {url} not reachable ({_reason(exc)})", unreachable=True)
    finally:
        engine.dispose()
    head = migrations.head()
    if current == head or current in _newer_revisions(head, current):
        return DatabaseStatus()
    return DatabaseStatus(f"database {url} is at revision {current or 'base (not migrated)'}, "
                          f"not at this version's head {head}: {UPGRADE_HINT}")


def _newer_revisions(head: str, current: str | None) -> set[str]:
    """``{current}`` when it is a revision this version does not know (a newer release
    migrated the database), else the empty set."""
    from alembic.script import ScriptDirectory

    from service import migrations

    if current is None:
        return set()
    script = ScriptDirectory.from_config(migrations.alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return set() if current in known else {current}


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own first line (e.g. "connection refused"), never the URL's password."""
    original = getattr(exc, "orig", None) or exc
    return f"{type(original).__name__}: {_first_line(original)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__

