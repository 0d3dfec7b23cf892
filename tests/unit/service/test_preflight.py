"""Pre-flight: ``config-check`` runs every check ``serve`` runs and names each problem.

Each broken set-up the newcomer review met (nothing configured, a missing trusted-clients
file, the README's placeholder client keys, a weak or placeholder hash key, an unreachable
or unmigrated database, a Fahrenheit fever threshold, a misspelt variable) fails
``config-check`` with the problem named, and ``serve`` refuses the same set-up before
gunicorn starts. A good set-up passes. Run in process through ``service.cli.main`` (the
exit status and messages the command line gives), on real SQLite files and a real
PostgreSQL URL that refuses connections.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from service import preflight
from service.cli import main
from service.db import make_engine
from service.migrations import upgrade
from tests.conftest import ROOT
from tests.trust_support import HASH_KEY

GOOD_KEY = HASH_KEY  # 39 characters, varied


def migrated_sqlite(tmp_path: Path, name: str = "memory.sqlite3") -> str:
    url = f"sqlite:///{tmp_path / name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No BACKPAIN_CDS_* from the caller's shell; metrics in a writable directory."""
    for key in list(os.environ):
        if key.startswith("BACKPAIN_CDS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    return monkeypatch


def config_check(capsys: pytest.CaptureFixture[str], **values: str) -> tuple[int, str]:
    for key, value in values.items():
        os.environ[f"BACKPAIN_CDS_{key}"] = value
    try:
        code = main(["config-check"])
    finally:
        for key in values:
            os.environ.pop(f"BACKPAIN_CDS_{key}", None)
    out = capsys.readouterr()
    return code, out.out + out.err


def readme_trusted_clients_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"\*\*Trusted clients\*\*.*?```json\n(.*?)```", readme, re.S)
    assert block, "README lost its trusted-clients example"
    return block.group(1)


# ------------------------------------------------------------------ broken set-ups
def test_nothing_configured_names_trust_key_and_database(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = config_check(capsys, DATABASE_URL=f"sqlite:///{tmp_path}/none.sqlite3")
    assert code == 2
    assert "no trusted clients configured" in out
    assert "BACKPAIN_CDS_PATIENT_HASH_KEY: required" in out
    assert "does not exist (not migrated): run `backpain-cds db upgrade`" in out
    assert "configuration ok" not in out


def test_missing_trusted_clients_file_and_weak_key_are_both_named(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = config_check(capsys, TRUSTED_CLIENTS_FILE=str(tmp_path / "absent.json"),
                             PATIENT_HASH_KEY="x", DATABASE_URL=migrated_sqlite(tmp_path))
    assert code == 2
    assert "BACKPAIN_CDS_TRUSTED_CLIENTS_FILE=" in out and "cannot read the file" in out
    assert "BACKPAIN_CDS_PATIENT_HASH_KEY=<secret>: too weak" in out


def test_the_readmes_placeholder_client_keys_are_refused(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clients = tmp_path / "clients.json"
    clients.write_text(readme_trusted_clients_example())
    code, out = config_check(capsys, TRUSTED_CLIENTS_FILE=str(clients),
                             PATIENT_HASH_KEY=GOOD_KEY, DATABASE_URL=migrated_sqlite(tmp_path))
    assert code == 2
    assert "not a valid EC public key" in out


@pytest.mark.parametrize("key", ["REPLACE-ME", "x", "k" * 64, "changeme-" + "a1b2c3d4e5" * 4])
def test_placeholder_and_weak_hash_keys_are_refused(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        key: str) -> None:
    code, out = config_check(capsys, PATIENT_HASH_KEY=key, DATABASE_URL=migrated_sqlite(tmp_path))
    assert code == 2
    assert re.search(r"PATIENT_HASH_KEY=<secret>: (too weak|looks like a placeholder)", out)
    assert len(key) < 8 or key not in out  # the secret itself is never echoed


def test_unreachable_database_is_named_with_the_driver_reason_and_no_password(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = config_check(capsys, ALLOW_UNAUTHENTICATED="1",
                             DATABASE_URL="postgresql+psycopg://cds:s3cr3t-pw@127.0.0.1:1/x")
    assert code == 1
    assert "not reachable" in out and "Connection refused" in out
    assert "s3cr3t-pw" not in out


def test_unmigrated_database_is_refused_by_config_check_and_serve(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'partial.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine, "0001")
    engine.dispose()
    code, out = config_check(capsys, ALLOW_UNAUTHENTICATED="1", DATABASE_URL=url)
    assert code == 2
    message = re.search(r"database .* is at revision 0001\S*, not at this version's head .*", out)
    assert message and "run `backpain-cds db upgrade`" in message.group(0)
    env.setenv("BACKPAIN_CDS_ALLOW_UNAUTHENTICATED", "1")
    env.setenv("BACKPAIN_CDS_DATABASE_URL", url)
    assert main(["serve", "--bind", "127.0.0.1:1"]) == 2  # refused before gunicorn starts
    assert message.group(0) in capsys.readouterr().err  # the same message


def test_fahrenheit_fever_threshold_and_misspelt_variable(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = config_check(capsys, ALLOW_UNAUTHENTICATED="1", FEVER_CELSIUS="100.4",
                             ALLOW_UNAUTHENTICATD="1")
    assert code == 2
    assert "BACKPAIN_CDS_FEVER_CELSIUS='100.4': must be between 37.5 and 40 degrees Celsius" in out
    assert ("BACKPAIN_CDS_ALLOW_UNAUTHENTICATD: unknown setting (did you mean "
            "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED?)") in out


def test_unwritable_metrics_directory_is_named(
        env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    env.setenv("PROMETHEUS_MULTIPROC_DIR", str(locked / "metrics"))
    report = preflight.run({"BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
                            "BACKPAIN_CDS_DATABASE_URL": migrated_sqlite(tmp_path),
                            "PROMETHEUS_MULTIPROC_DIR": str(locked / "metrics")})
    if os.geteuid() == 0:  # root writes anywhere: the check cannot fail here
        assert report.ok
    else:
        assert any("metrics directory" in p for p in report.problems)


# ------------------------------------------------------------------ good set-ups
def test_a_good_set_up_passes(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clients = ROOT / "deploy" / "trusted-clients.json"  # the reference deployment's
    url = migrated_sqlite(tmp_path)
    code, out = config_check(capsys, TRUSTED_CLIENTS_FILE=str(clients),
                             PATIENT_HASH_KEY=GOOD_KEY, DATABASE_URL=url)
    assert (code, out.strip().splitlines()) == (0, [f"database: {url}", "configuration ok"])


def test_secrets_come_from_files(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``*_FILE``: a Docker/Kubernetes secret file, trailing newline stripped."""
    url = migrated_sqlite(tmp_path)
    (tmp_path / "key").write_text(GOOD_KEY + "\n")
    (tmp_path / "url").write_text(url + "\n")
    code, out = config_check(capsys, ALLOW_UNAUTHENTICATED="1",
                             PATIENT_HASH_KEY_FILE=str(tmp_path / "key"),
                             DATABASE_URL_FILE=str(tmp_path / "url"))
    assert code == 0, out
    settings = preflight.run({"BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
                              "BACKPAIN_CDS_PATIENT_HASH_KEY_FILE": str(tmp_path / "key"),
                              "BACKPAIN_CDS_DATABASE_URL_FILE": str(tmp_path / "url")}).settings
    assert settings and (settings.patient_hash_key, settings.database_url) == (GOOD_KEY, url)


def test_a_secret_file_and_its_variable_together_or_an_unreadable_file_are_refused(
        env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    report = preflight.run({"BACKPAIN_CDS_PATIENT_HASH_KEY": GOOD_KEY,
                            "BACKPAIN_CDS_PATIENT_HASH_KEY_FILE": str(tmp_path / "key"),
                            "BACKPAIN_CDS_DATABASE_URL_FILE": str(tmp_path / "absent")})
    assert ("BACKPAIN_CDS_PATIENT_HASH_KEY and BACKPAIN_CDS_PATIENT_HASH_KEY_FILE are both set: "
            "use one") in report.problems
    assert any(p.startswith("BACKPAIN_CDS_DATABASE_URL_FILE=") and "cannot read" in p
               for p in report.problems)
    # only secrets may come from files
    report = preflight.run({"BACKPAIN_CDS_LOG_LEVEL_FILE": str(tmp_path / "x")})
    assert report.problems and "unknown setting" in report.problems[0]


def test_a_newer_database_revision_is_no_problem_for_an_older_replica(
        env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Rolling upgrade: the new release migrated first; old replicas keep serving."""
    url = migrated_sqlite(tmp_path)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    engine.dispose()
    report = preflight.run({"BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
                            "BACKPAIN_CDS_DATABASE_URL": url})
    assert report.ok, report.problems


# ------------------------------------------------------------------ commands that need less
def test_feedback_report_and_purge_need_no_hash_key(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Read-only aggregates and retention compute no patient hash: the database URL is
    enough (no key, not even ALLOW_UNAUTHENTICATED)."""
    env.setenv("BACKPAIN_CDS_DATABASE_URL", migrated_sqlite(tmp_path))
    assert main(["feedback-report", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("topic,rule_id,rule_version,issued")
    assert main(["db", "purge"]) == 0
    assert "audit_event: 0 deleted" in capsys.readouterr().out
