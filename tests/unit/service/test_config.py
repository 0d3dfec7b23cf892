"""Configuration: every BACKPAIN_CDS_* variable validated at start-up, documented in README.

Through the real command line and gunicorn.conf.py in child processes (the exit status an
orchestrator sees): ``tests/integration/test_cli_processes.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cds_rules.model import Topic
from cds_rules.settings import RuleSettings, configurable
from service.config import (
    VARIABLES,
    ConfigError,
    Settings,
    Var,
    load_settings,
    markdown_table,
)
from tests.conftest import ROOT


# ------------------------------------------------------------------ the module itself
def test_every_variable_is_one_settings_field() -> None:
    """VARIABLES is derived from the declaration: each service field, the core's
    configurable thresholds in place of ``rules``, and nothing else."""
    service = set(Settings.model_fields) - {"rules"}
    assert {var.field for var in VARIABLES} == service | set(configurable())
    assert {var.field for var in VARIABLES if var.nested} == set(configurable())


def test_documented_defaults_are_the_real_defaults() -> None:
    """The README table shows Var.default; Settings() must mean the same thing."""
    assert load_settings({}) == Settings()


@pytest.mark.parametrize("var", VARIABLES, ids=lambda var: var.name)
def test_each_variable_default_text_parses_to_the_default(var: Var) -> None:
    """The README's default text, read as the variable, is the declared default."""
    settings = load_settings({var.env: var.default})
    owner = settings.rules if var.nested else settings
    assert getattr(owner, var.field) == getattr(Settings().rules if var.nested else Settings(),
                                                var.field)


def _another_value(value: Any) -> Any:
    """A valid value of the same kind that differs from ``value``."""
    if isinstance(value, frozenset):
        return frozenset({Topic.FRACTURE}) - value or frozenset({Topic.MALIGNANCY})
    if isinstance(value, str):
        return "acp" if value == "single" else "single"  # the one str threshold: a mode
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return value + 1


def test_rule_settings_carries_every_configurable_threshold() -> None:
    assert len(configurable()) >= 17  # every threshold with a BACKPAIN_CDS_* variable
    changed = {name: _another_value(getattr(RuleSettings(), name)) for name in configurable()}
    rules = Settings(**changed).rule_settings()  # flat keyword construction keeps working
    assert {name: getattr(rules, name) for name in configurable()} == changed
    core_only = set(RuleSettings.model_fields) - set(configurable())
    assert core_only and all(getattr(rules, n) == getattr(RuleSettings(), n) for n in core_only)


def test_a_threshold_outside_its_range_is_refused_in_the_core_too() -> None:
    """The range is declared once, on the core's field: constructing it checks it."""
    with pytest.raises(ValidationError):
        RuleSettings(fever_celsius=100.4)


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
