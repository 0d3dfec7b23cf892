"""Several gunicorn workers (forked from a preloaded master) share one database: feedback
posted concurrently to different workers is stored once each, and a snooze stored by one
worker is honoured by the others. On SQLite (one file, several processes) and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import fhir_samples
from cds_rules.model import OVERRIDE_REASON_SYSTEM
from service.db import Feedback, make_engine
from service.migrations import upgrade
from tests.conftest import ROOT
from tests.helpers import SERVICE_OF_HOOK
from tests.store_support import *  # noqa: F403  (fixtures)
from tests.store_support import HASH_KEY

# The served app runs on the real clock, not the scenario's "now": this scenario's card
# (a coded cauda equina diagnosis) stands at any later date.
SCENARIO = "ces-diagnosis-g834"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPAIN_CDS_")}
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env.update(BACKPAIN_CDS_DATABASE_URL=database_url, BACKPAIN_CDS_PATIENT_HASH_KEY=HASH_KEY,
               BACKPAIN_CDS_ALLOW_UNAUTHENTICATED="1", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "3"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=log.open("wb"))  # a file, not a pipe nobody reads: a full pipe blocks
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                if httpx.get(f"{base}/cds-services", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_workers_share_feedback_and_snoozes(server: str, database_url: str) -> None:
    scenario = fhir_samples.load(SCENARIO)
    url = f"{server}/cds-services/{SERVICE_OF_HOOK[scenario.hook]}"
    with httpx.Client(timeout=10) as client:
        calls = [client.post(url, json=scenario.request_body()).json()["cards"]
                 for _ in range(12)]
    cards = [card for cards in calls for card in cards]
    assert cards, "the scenario must raise at least one card"
    entries = [{"card": card["uuid"], "outcome": "overridden",
                "outcomeTimestamp": f"2026-03-01T08:{minute:02d}:00Z",
                "overrideReason": {"reason": {"system": OVERRIDE_REASON_SYSTEM,
                                              "code": "not-applicable"}}}
               for card in cards for minute in range(10)]

    def post(entry: dict[str, Any]) -> int:
        with httpx.Client(timeout=30) as client:  # a new connection: any worker
            return client.post(f"{url}/feedback", json={"feedback": [entry]}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, entries + entries))
    assert statuses == [200] * len(statuses)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Feedback)).scalar_one() == len(
            entries)
    engine.dispose()

    # snooze every card of one call; every worker then hides them
    snooze = {"feedback": [{"card": card["uuid"], "outcome": "overridden",
                            "outcomeTimestamp": "2026-03-01T09:00:00Z",
                            "overrideReason": {"reason": {"system": OVERRIDE_REASON_SYSTEM,
                                                          "code": "already-assessed"}}}
                           for card in calls[0]]}
    assert post(snooze["feedback"][0]) == 200 and all(
        post(entry) == 200 for entry in snooze["feedback"][1:])
    with ThreadPoolExecutor(6) as pool:
        later = list(pool.map(
            lambda _: httpx.post(url, json=scenario.request_body(), timeout=10).json()["cards"],
            range(6)))
    assert later == [[]] * 6
