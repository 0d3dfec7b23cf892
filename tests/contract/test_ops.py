"""/healthz, /readyz and /metrics as the orchestrator and Prometheus call them.

Readiness faults are real: an unmigrated SQLite file, a PostgreSQL URL on a closed port.
Only the empty rule catalogue is injected (nothing else can empty it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import cds_rules.catalogue
from service import ops
from service.migrations import upgrade
from service.ops import rule_count
from tests.helpers import make_test_app
from tests.ops_support import free_port


def app_on(database_url: str, *, migrate: bool) -> Flask:
    app = make_test_app(database_url=database_url)
    if migrate:
        upgrade(app.extensions["backpain"]["store"].engine)
    return app


@pytest.fixture
def ready_app(tmp_path: Path) -> Iterator[Flask]:
    app = app_on(f"sqlite:///{tmp_path / 'ops.sqlite3'}", migrate=True)
    store = app.extensions["backpain"]["store"]
    yield app
    store.dispose()


@pytest.fixture
def client(ready_app: Flask) -> FlaskClient:
    return ready_app.test_client()


def closed_port_postgres_url() -> str:
    return f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing?connect_timeout=2"


def outcome_text(body: dict[str, Any]) -> str:
    assert body["resourceType"] == "OperationOutcome"
    return " ".join(issue["diagnostics"] for issue in body["issue"])


def test_healthz_says_ok_without_touching_anything(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_healthz_stays_ok_while_the_database_is_down() -> None:
    """Liveness must not restart every replica because PostgreSQL is away."""
    app = app_on(closed_port_postgres_url(), migrate=False)
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_ready_with_rules_and_a_migrated_database(client: FlaskClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "ready"
    assert body["checks"] == {"rules": len(cds_rules.catalogue.RULES), "database": "ok"}
    assert body["checks"]["rules"] > 0


def test_readyz_503_when_the_database_is_unreachable() -> None:
    app = app_on(closed_port_postgres_url(), migrate=False)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.mimetype == "application/fhir+json"
    assert "database" in outcome_text(answer.get_json())


def test_readyz_503_when_the_database_is_not_migrated(tmp_path: Path) -> None:
    app = app_on(f"sqlite:///{tmp_path / 'empty.sqlite3'}", migrate=False)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert "not migrated" in outcome_text(answer.get_json())


def test_readyz_503_when_the_rule_catalogue_is_empty(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ops, "RULES", ())
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "rule catalogue" in outcome_text(answer.get_json())


def test_readyz_without_a_store_checks_only_the_rules(ready_app: Flask) -> None:
    ready_app.extensions["backpain"].pop("store")
    answer = ready_app.test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["checks"]["database"] == "not configured"


def test_rule_count_is_the_catalogue_size() -> None:
    assert rule_count() == len(cds_rules.catalogue.RULES) > 0


def test_metrics_are_prometheus_text_with_the_service_metrics(client: FlaskClient) -> None:
    assert client.get("/cds-services").status_code == 200
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    for name in ("backpain_cds_requests_total", "backpain_cds_request_seconds",
                 "backpain_cds_cards_total", "backpain_cds_fhir_fetch_seconds",
                 "backpain_cds_jwt_rejections_total", "backpain_cds_db_errors_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert re.search(r'^backpain_cds_requests_total\{hook="none",service="discovery",'
                     r'status="200"\} [1-9]', text, re.MULTILINE)


def test_request_id_is_echoed_when_sane(client: FlaskClient) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:1"})
    assert answer.headers["X-Request-ID"] == "lb-7f3a.42:1"


@pytest.mark.parametrize("offered", ["", "has space", "x" * 129, "quote\"d", "<script>"])
def test_request_id_is_replaced_when_not_sane(client: FlaskClient, offered: str) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": offered})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])


def test_readyz_503_when_the_database_reads_but_cannot_write(tmp_path: Path) -> None:
    """Every call writes (its JWT id): a database opened read-only (as on a read-only file
    system; the tests run as root, so file modes would not stop a write) is not ready."""
    path = tmp_path / "readonly.sqlite3"
    migrated = app_on(f"sqlite:///{path}", migrate=True)
    migrated.extensions["backpain"]["store"].dispose()
    app = app_on(f"sqlite:///file:{path}?mode=ro&uri=true", migrate=False)
    try:
        answer = app.test_client().get("/readyz")
        assert answer.status_code == 503, answer.get_json()
        assert "database" in outcome_text(answer.get_json())
    finally:
        app.extensions["backpain"]["store"].dispose()
