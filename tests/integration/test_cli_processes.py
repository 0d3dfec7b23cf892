"""The command line in real child processes: start-up failures exit with status 2 and a
message naming the variable, with no traceback (what an orchestrator sees);
gunicorn.conf.py's computed settings; output into a closed pipe.

In-process checks of the same settings: ``tests/unit/service/test_config.py`` and
``test_preflight.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from service.config import markdown_table
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
CLI = str(BIN / "backpain-cds")


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BACKPAIN_CDS_") and k not in ("WEB_CONCURRENCY",
                                                               "GUNICORN_CMD_ARGS")}
    env.update({f"BACKPAIN_CDS_{k}": v for k, v in values.items()})
    return env


# ------------------------------------------------------------------ through the real CLI
def test_config_doc_prints_every_variable() -> None:
    result = subprocess.run([CLI, "config-doc"], env=clean_env(), capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout.strip() == markdown_table()


def test_serve_refuses_a_bad_variable_with_status_2() -> None:
    result = subprocess.run([CLI, "serve", "--bind", "127.0.0.1:1"],
                            env=clean_env(FHIR_MAX_PAGES="zero", ALLOW_UNAUTHENTICATED="1"),
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "BACKPAIN_CDS_FHIR_MAX_PAGES='zero'" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_unsafe_combination_with_status_2(tmp_path: Path) -> None:
    """No trusted clients and no ALLOW_UNAUTHENTICATED: the app factory refuses to start."""
    result = subprocess.run([CLI, "serve", "--bind", "127.0.0.1:1"],
                            env=clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
                                          PATIENT_HASH_KEY="k" * 32),
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "configuration error:" in result.stderr
    assert "BACKPAIN_CDS_TRUSTED_CLIENTS_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_gunicorn_with_the_config_file_refuses_a_bad_variable_with_status_2() -> None:
    result = subprocess.run([str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")],
                            env=clean_env(LOG_LEVEL="loud"), capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "BACKPAIN_CDS_LOG_LEVEL='loud'" in result.stderr


def test_config_check_exit_status(tmp_path: Path) -> None:
    """Through the real command line; every set-up config-check refuses is in
    tests/unit/service/test_preflight.py."""
    database = f"sqlite:///{tmp_path}/x.sqlite3"
    subprocess.run([CLI, "db", "upgrade"], env=clean_env(DATABASE_URL=database), check=True,
                   capture_output=True, timeout=60)
    good = subprocess.run([CLI, "config-check"], capture_output=True, text=True, timeout=60,
                          env=clean_env(ALLOW_UNAUTHENTICATED="1", DATABASE_URL=database))
    bad = subprocess.run([CLI, "config-check"], env=clean_env(SNOOZE_DAYS="-3"),
                         capture_output=True, text=True, timeout=60)
    assert (good.returncode, bad.returncode) == (0, 2), good.stderr
    assert "BACKPAIN_CDS_SNOOZE_DAYS" in bad.stderr


# ------------------------------------------------------------------ gunicorn.conf.py
def gunicorn_settings(**env: str) -> dict[str, object]:
    """The values gunicorn.conf.py computes under ``env`` (in a child: it sets env vars)."""
    code = ("import json, runpy; ns = runpy.run_path('gunicorn.conf.py'); "
            "print(json.dumps({k: ns[k] for k in ('workers', 'worker_class', 'threads', "
            "'forwarded_allow_ips', 'preload_app', 'timeout', 'graceful_timeout', "
            "'max_requests', 'max_requests_jitter', 'access_log_format')}))")
    extra = {k: v for k, v in env.items() if not k.isupper() or k == "WEB_CONCURRENCY"}
    prefixed = {k: v for k, v in env.items() if k not in extra}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True,
                            env={**clean_env(**prefixed), **extra})
    return dict(json.loads(result.stdout))


def usable_cpus(cpu_max: Path) -> int:
    code = ("import runpy, sys; from pathlib import Path; "
            "print(runpy.run_path('gunicorn.conf.py')['_usable_cpus'](Path(sys.argv[1])))")
    result = subprocess.run([sys.executable, "-c", code, str(cpu_max)], cwd=ROOT, check=True,
                            capture_output=True, text=True, timeout=60, env=clean_env())
    return int(result.stdout)


def test_usable_cpus_honour_the_cgroup_quota(tmp_path: Path) -> None:
    """A pod limited to 1.5 CPUs on a big node counts 2 CPUs, not the node's."""
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    assert usable_cpus(tmp_path / "absent") == affinity
    cpu_max.write_text("max 100000\n")
    assert usable_cpus(cpu_max) == affinity
    cpu_max.write_text("150000 100000\n")
    assert usable_cpus(cpu_max) == min(affinity, 2)
    cpu_max.write_text("20000 100000\n")
    assert usable_cpus(cpu_max) == 1


def test_gunicorn_workers_from_cpus_unless_overridden() -> None:
    cpus = usable_cpus(Path("/sys/fs/cgroup/cpu.max"))
    assert gunicorn_settings()["workers"] == min(2 * cpus + 1, 8)
    assert gunicorn_settings(WORKERS="3")["workers"] == 3
    assert gunicorn_settings(WEB_CONCURRENCY="5")["workers"] == 5


def test_gunicorn_trusts_forwarded_headers_only_from_configured_proxies() -> None:
    assert gunicorn_settings()["forwarded_allow_ips"] == ""
    assert gunicorn_settings(TRUSTED_PROXIES="10.0.0.5, 10.1.0.0/16")[
        "forwarded_allow_ips"] == "10.0.0.5,10.1.0.0/16"


def test_gunicorn_settings_bound_every_request_and_shutdown() -> None:
    settings = gunicorn_settings()
    assert settings["preload_app"] is True
    assert 0 < settings["graceful_timeout"] < 30 <= settings["timeout"]  # type: ignore[operator]
    assert 0 < settings["max_requests_jitter"] < settings["max_requests"]  # type: ignore[operator]
    assert "%(U)s" in settings["access_log_format"]  # type: ignore[operator]
    assert "%(r)s" not in settings["access_log_format"]  # type: ignore[operator]
    assert "%(q)s" not in settings["access_log_format"]  # type: ignore[operator]


# ------------------------------------------------------------------ the CLI's output
def test_samples_into_a_closed_pipe_ends_quietly() -> None:
    """``backpain-cds samples | head -1``: once the reader has gone, writing fails with
    EPIPE. The reader here is gone before the first write, so the failure is certain (a
    real ``head`` may or may not leave before the output fits in the pipe buffer)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    command = [sys.executable, "-c", "import sys; from service.cli import main; "
               "sys.exit(main(['samples']))"]
    try:
        proc = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, timeout=120,
                              cwd=ROOT, check=False)
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141
