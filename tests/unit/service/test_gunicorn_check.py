"""What ``serve`` says at start of a gunicorn configuration that goes without part of the
project's gunicorn.conf.py (service/commands/gunicorn_check.py): nothing for the project's
own file, one sentence per thing lost for gunicorn's defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker
from gunicorn.workers.sync import SyncWorker

from service.commands.gunicorn_check import HOOKS, configuration_problems
from service.transport import ThreadWorker

ROOT = Path(__file__).resolve().parents[3]

# Loads a configuration file as `serve` does (gunicorn's own loader), in a process of its
# own: gunicorn.conf.py sets up the metrics directory and patches gunicorn when it runs.
_LOAD = """
import json, sys
from gunicorn.app.base import Application
from gunicorn.config import Config
from service.commands.gunicorn_check import configuration_problems

class Loaded(Application):
    def __init__(self):  # only the configuration: no app, no command line
        self.cfg = Config()

loaded = Loaded()
loaded.load_config_from_file(sys.argv[1])
print(json.dumps(configuration_problems(loaded.cfg)))
"""


def _problems_of_file(path: Path, metrics_dir: Path | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if metrics_dir is not None:  # else gunicorn.conf.py makes a temporary one (never removed)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env.update(BACKPAIN_CDS_ALLOW_UNAUTHENTICATED="1",
               BACKPAIN_CDS_PATIENT_HASH_KEY="gunicorn-check-test-key")
    done = subprocess.run([sys.executable, "-c", _LOAD, str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    problems: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return problems


def test_the_projects_configuration_loses_nothing(tmp_path: Path) -> None:
    assert _problems_of_file(ROOT / "gunicorn.conf.py", tmp_path) == []


def test_a_configuration_of_its_own_is_told_what_it_loses(tmp_path: Path) -> None:
    own = tmp_path / "site.gunicorn.conf.py"
    own.write_text('worker_class = "service.transport.ThreadWorker"\nthreads = 2\n')
    problems = _problems_of_file(own)
    assert len(problems) == 5, problems
    logger, header, errors, hooks, metrics = problems
    assert "gunicorn.glogging.Logger is not service.logs.GunicornLogger" in logger
    assert "limit_request_field_size is 8190" in header
    assert "HTML pages, not OperationOutcomes" in errors
    assert all(name in hooks for name in HOOKS)
    assert "only the worker that answers the scrape" in metrics


def test_gunicorns_defaults_lose_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(util, "write_error", lambda *args: None)  # not the service's
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    problems = configuration_problems(Config())
    assert len(problems) == 6, problems
    assert "SyncWorker is not service.transport.ThreadWorker" in problems[0]
    assert "limit_request_field_size is 8190" in problems[2]


def test_a_header_limit_of_zero_is_gunicorns_default_not_unlimited() -> None:
    config = Config()
    config.set("limit_request_field_size", 0)
    assert "is 0 (gunicorn reads 0 or less as its default, 8190)" in " ".join(
        configuration_problems(config))


def test_a_metrics_directory_given_to_gunicorn_for_the_workers_counts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    config = Config()
    assert any("PROMETHEUS_MULTIPROC_DIR" in p for p in configuration_problems(config))
    config.set("raw_env", ["PROMETHEUS_MULTIPROC_DIR=/run/metrics"])  # --env, raw_env
    assert not any("PROMETHEUS_MULTIPROC_DIR" in p for p in configuration_problems(config))


def test_a_worker_class_other_than_the_services_is_named_with_what_it_loses() -> None:
    class SiteWorker(ThreadWorker):  # type: ignore[misc,valid-type]
        pass

    def worker_class_problem(worker_class: type) -> str | None:
        config = Config()
        config.set("worker_class", worker_class)
        named = [p for p in configuration_problems(config) if p.startswith("worker class ")]
        return named[0] if named else None

    assert worker_class_problem(ThreadWorker) is None
    assert worker_class_problem(SiteWorker) is None
    for other in (GunicornThreadWorker, SyncWorker):
        problem = worker_class_problem(other)
        assert problem is not None and f"{other.__module__}.{other.__qualname__}" in problem
        assert "BACKPAIN_CDS_KEEPALIVE_REQUESTS is ignored" in problem
