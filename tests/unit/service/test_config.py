"""Configuration: every BACKPAIN_CDS_* variable validated at start-up, documented in README.

Start-up failures are checked through the real command line in a subprocess: the exit
status an orchestrator sees (2) and a message naming the variable, with no traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from cds_rules.model import Topic
from cds_rules.settings import RuleSettings
from service.config import (
    VARIABLES,
    ConfigError,
    Settings,
    Var,
    load_settings,
    markdown_table,
)
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
CLI = str(BIN / "backpain-cds")


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BACKPAIN_CDS_") and k not in ("WEB_CONCURRENCY",
                                                               "GUNICORN_CMD_ARGS")}
    env.update({f"BACKPAIN_CDS_{k}": v for k, v in values.items()})
    return env


# ------------------------------------------------------------------ the module itself
def test_every_variable_has_a_settings_field_and_back() -> None:
    assert {var.name.lower() for var in VARIABLES} == {f.name for f in fields(Settings)}


def test_documented_defaults_are_the_real_defaults() -> None:
    """The README table shows Var.default; Settings() must mean the same thing."""
    assert load_settings({}) == Settings()


SHARED_WITH_RULES = sorted({f.name for f in fields(Settings)}
                           & {f.name for f in fields(RuleSettings)})


@pytest.mark.parametrize("var", VARIABLES, ids=lambda var: var.name)
def test_each_variable_default_parses_to_the_settings_and_rule_default(var: Var) -> None:
    """One threshold, three declarations (Var default, Settings, RuleSettings): they agree."""
    name = var.name.lower()
    assert var.parse(var.default) == getattr(Settings(), name)
    if name in SHARED_WITH_RULES:
        assert var.parse(var.default) == getattr(RuleSettings(), name)


def _another_value(value: Any) -> Any:
    """A valid value of the same kind that differs from ``value``."""
    if isinstance(value, frozenset):
        return frozenset({Topic.FRACTURE}) - value or frozenset({Topic.MALIGNANCY})
    if isinstance(value, str):
        return "acp" if value == "single" else "single"  # the one str threshold: a mode
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return value + 1


def test_rule_settings_carries_every_configurable_threshold() -> None:
    assert len(SHARED_WITH_RULES) >= 17  # every threshold with a BACKPAIN_CDS_* variable
    changed = {name: _another_value(getattr(Settings(), name)) for name in SHARED_WITH_RULES}
    rules = Settings(**changed).rule_settings()  # keyword construction keeps working
    assert {name: getattr(rules, name) for name in SHARED_WITH_RULES} == changed
    core_only = {f.name for f in fields(RuleSettings)} - set(SHARED_WITH_RULES)
    assert all(getattr(rules, name) == getattr(RuleSettings(), name) for name in core_only)


@pytest.mark.parametrize(("name", "value", "why"), [
    ("WORKERS", "0", "positive"),
    ("WORKERS", "many", "invalid literal"),
    ("LOG_LEVEL", "verbose", "must be one of"),
    ("FHIR_TIMEOUT_SECONDS", "-1", "must not be negative"),
    ("ALLOW_UNAUTHENTICATED", "maybe", "expected 1/0"),
    ("DISABLED_TOPICS", "cauda-equina,nonsense", "unknown topic"),
    ("FRACTURE_AGE_MODE", "young", "must be one of"),
])
def test_a_bad_value_names_the_variable_and_the_problem(name: str, value: str, why: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({f"BACKPAIN_CDS_{name}": value})
    assert str(error.value).startswith(f"BACKPAIN_CDS_{name}=")
    assert why in str(error.value)


def test_a_misspelt_variable_is_refused_not_ignored() -> None:
    with pytest.raises(ConfigError, match="BACKPAIN_CDS_WOKRERS: unknown setting"):
        load_settings({"BACKPAIN_CDS_WOKRERS": "4"})


def test_workers_empty_means_automatic() -> None:
    assert load_settings({}).workers == 0
    assert load_settings({"BACKPAIN_CDS_WORKERS": "3"}).workers == 3


def test_settings_file_values_and_environment_precedence(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps({"WORKERS": "5", "LOG_LEVEL": "DEBUG"}))
    settings = load_settings({"BACKPAIN_CDS_SETTINGS_FILE": str(settings_file),
                              "BACKPAIN_CDS_LOG_LEVEL": "WARNING"})
    assert (settings.workers, settings.log_level) == (5, "WARNING")


def test_readme_configuration_table_is_the_generated_one() -> None:
    """README's table is `backpain-cds config-doc`'s output: regenerate it on change."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    for var in VARIABLES:
        assert f"`{var.env}`" in readme


def test_readme_explains_fetching_with_every_fhir_setting_and_its_default() -> None:
    """"Fetching what the EHR did not send" names every setting that governs fetching, and
    a default it quotes, ``(0.8)``, is the real one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Fetching what the EHR did not send", 1)[1].split("\n## ", 1)[0]
    fetching = [v for v in VARIABLES if v.name.startswith("FHIR_")
                or v.name in {"ALLOW_HTTP_LOOPBACK", "MAX_BODY_BYTES"}]
    assert len(fetching) == 8
    for var in fetching:
        assert f"`{var.env}`" in section, var.env
    quoted = re.findall(r"`BACKPAIN_CDS_([A-Z_]+)`\s\(([^)]+)\)", section)
    assert len(quoted) >= 5
    defaults = {var.name: var.default for var in VARIABLES}
    for name, value in quoted:
        assert value == defaults[name], name
    for fact in ("412", "Could not read", "https", "null", "OperationOutcome"):
        assert fact in section, fact


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
