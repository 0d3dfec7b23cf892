"""Shared pytest fixtures and the CI rule: under CI=true real components are mandatory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SYNTHEA_DIR = SHARED / "data" / "synthea-r4"
IN_CI = os.environ.get("CI", "").lower() == "true"

pytest_plugins = ["tests.fhir_server_fixture", "tests.log_guard"]


def require(condition: bool, component: str) -> None:
    """Skip when a real component is unavailable locally; fail instead under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{component} is required under CI=true but is not available")
    pytest.skip(f"{component} not available")
