"""``/metrics`` on a fresh server: every failure counter present at 0, build info, DB pool
and per-process metrics. Alerts on rate() of a counter that does not exist yet see "no
data", not "no failures"; the real gunicorn server (multiprocess metrics, 2 workers) is
where that went wrong, so it is checked there, not only in process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.helpers import make_test_app
from tests.integration.test_gunicorn_server import Server, settled_worker_pids, start_server, stop
from tests.ops_support import http

ZERO_FAILURES = (
    'backpain_cds_jwt_rejections_total{reason="replay"} 0.0',
    'backpain_cds_jwt_rejections_total{reason="bad-signature"} 0.0',
    'backpain_cds_db_errors_total{operation="record_call"} 0.0',
    'backpain_cds_db_errors_total{operation="suppress_snoozed"} 0.0',
    'backpain_cds_fhir_fetch_failures_total{reason="unreachable"} 0.0',
    'backpain_cds_fhir_fetch_failures_total{reason="timeout"} 0.0',
    'backpain_cds_cards_invalid_total{topic="cauda-equina"} 0.0',
    'backpain_cds_resources_dropped_total{reason="invalid"} 0.0',
    'backpain_cds_resources_dropped_total{reason="reader-fault"} 0.0',
    'backpain_cds_rule_failures_total{rule="CES-01"} 0.0',
    'backpain_cds_core_fault_calls_total{hook="patient-view"} 0.0',
    'backpain_cds_rule_failures_total{rule="CONS-01"} 0.0',
    'backpain_cds_db_timeouts_total{operation="suppress_snoozed"} 0.0',
)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the one sample of ``name`` with (at least) ``labels``."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if labels.items() <= found.items():
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels}")


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("fresh-metrics")
    running = start_server(tmp, metrics_dir=tmp / "metrics", workers=2)
    yield running
    stop(running)


def test_a_fresh_gunicorn_server_shows_zero_failures_build_info_and_processes(
        fresh_server: Server) -> None:
    assert len(settled_worker_pids(fresh_server.process.pid, 2)) == 2  # both forked
    status, _, body = http(fresh_server.base, "/metrics")
    text = body.decode()
    assert status == 200
    for line in ZERO_FAILURES:
        assert line in text, line
    assert sample(text, "backpain_cds_build_info", version="0.1.0") == 1.0
    assert re.search(r'backpain_cds_build_info\{python="3\.\d+\.\d+",version="0\.1\.0"\}', text)
    assert sample(text, "backpain_cds_workers") == 2.0
    assert sample(text, "backpain_cds_process_resident_memory_bytes", role="master") > 1e6
    assert sample(text, "backpain_cds_process_resident_memory_bytes", role="worker") > 1e6
    assert sample(text, "backpain_cds_process_cpu_seconds_total", role="master") > 0  # preload
    assert "backpain_cds_db_pool_connections{state=" in text



def test_the_server_logs_the_absolute_database_it_uses(fresh_server: Server) -> None:
    """"Which database is this server using?" has one answer in its start-up log."""
    database = [json.loads(line)["message"] for line in fresh_server.log().splitlines()
                if line.startswith("{") and '"database: ' in line]
    assert database and database[0].startswith("database: sqlite:////"), database
    assert database[0].endswith("/served.sqlite3")


def test_db_pool_connections_follow_use(tmp_path: Path) -> None:
    """In process: the readiness check opens a pooled connection and gives it back."""
    from service.db import make_engine
    from service.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    client: FlaskClient = make_test_app(database_url=url).test_client()
    before = client.get("/metrics").get_data(as_text=True)
    assert client.get("/readyz").status_code == 200
    after = client.get("/metrics").get_data(as_text=True)
    opened = (sample(after, "backpain_cds_db_pool_connections", state="open")
              - sample(before, "backpain_cds_db_pool_connections", state="open"))
    assert opened >= 1
    assert sample(after, "backpain_cds_db_pool_connections", state="checked_out") == \
        sample(before, "backpain_cds_db_pool_connections", state="checked_out")
    assert sample(after, "backpain_cds_process_resident_memory_bytes", role="single") > 1e6


def test_a_command_with_a_metrics_directory_not_made_yet_runs(tmp_path: Path) -> None:
    """PROMETHEUS_MULTIPROC_DIR set (as in the image) but not yet created: the CLI makes
    it instead of failing with a traceback."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPAIN_CDS_")}
    env.update(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "not-yet" / "metrics"),
               BACKPAIN_CDS_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    result = subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "not-yet" / "metrics").is_dir()
